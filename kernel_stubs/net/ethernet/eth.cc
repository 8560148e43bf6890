// net/ethernet/eth.c: the Ethernet devices' set-up.
#include <cstdint>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/net/core/dev.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint16_t arphrd_ether = 1;     // ARPHRD_ETHER
constexpr uint16_t eth_hlen = 14;        // ETH_HLEN
constexpr uint32_t eth_data_len = 1500;  // ETH_DATA_LEN
constexpr uint32_t eth_min_mtu = 68;     // ETH_MIN_MTU
constexpr uint8_t eth_alen = 6;          // ETH_ALEN
constexpr uint32_t iff_broadcast = 0x2, iff_multicast = 0x1000;
constexpr uint8_t net_name_enum = 1;  // NET_NAME_ENUM

struct Eth : Kernel::SubsystemState {
    uint64_t header_ops = 0;  // eth_header_ops (its callbacks are not modelled: NULL)
};

}  // namespace

// ether_setup(dev)
void ether_setup_dev(Kernel& k, uint64_t dev) {
    const KernelStructs::NetDevice& l = k.structs().net_device;
    Emulator& e = k.emu();
    Eth& eth = k.state<Eth>();
    if (!eth.header_ops) eth.header_ops = k.alloc_data(l.header_ops_size, 64);
    e.write_word(dev + l.header_ops, eth.header_ops);
    uint16_t type = arphrd_ether, hlen = eth_hlen;
    e.write(dev + l.type, &type, 2);
    e.write(dev + l.hard_header_len, &hlen, 2);
    uint8_t min_hlen = eth_hlen, alen = eth_alen;
    e.write(dev + l.min_header_len, &min_hlen, 1);
    uint32_t mtu = eth_data_len, min_mtu = eth_min_mtu, qlen = 1000;  // DEFAULT_TX_QUEUE_LEN
    e.write(dev + l.mtu, &mtu, 4);
    e.write(dev + l.min_mtu, &min_mtu, 4);
    e.write(dev + l.max_mtu, &mtu, 4);
    e.write(dev + l.addr_len, &alen, 1);
    e.write(dev + l.tx_queue_len, &qlen, 4);
    uint32_t flags = iff_broadcast | iff_multicast;
    e.write(dev + l.flags, &flags, 4);
    uint32_t pf = e.read_u32(dev + l.priv_flags) | static_cast<uint32_t>(l.iff_tx_skb_sharing);
    e.write(dev + l.priv_flags, &pf, 4);
    uint8_t bcast[eth_alen] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};  // eth_broadcast_addr()
    e.write(dev + l.broadcast, bcast, eth_alen);
}

void register_eth(Kernel& k) {
    const char* sub = "net/ethernet/eth";
    k.add_function("ether_setup", sub, [](StubCall& c) -> uint64_t {
        ether_setup_dev(c.kernel, c.arg(0));
        return 0;
    });
    // alloc_etherdev_mqs(sizeof_priv, txqs, rxqs): "eth%d", NET_NAME_ENUM, ether_setup.
    k.add_function("alloc_etherdev_mqs", sub, [](StubCall& c) -> uint64_t {
        const Export* es = c.kernel.find_export("ether_setup");
        return alloc_netdev(c, c.arg(0) & 0xffffffffu, "eth%d", net_name_enum, es ? es->address : 0,
                            static_cast<uint32_t>(c.arg(1)), static_cast<uint32_t>(c.arg(2)));
    });
}

}  // namespace kmodemu
