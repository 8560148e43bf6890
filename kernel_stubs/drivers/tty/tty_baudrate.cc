// drivers/tty/tty_baudrate.c: a termios's speeds encoded in its c_cflag (the Bxxx bits of a
// standard rate, else BOTHER with the exact rate in c_ispeed/c_ospeed).
#include <cstdint>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// include/uapi/asm-generic/termbits.h (arm and arm64): CBAUD, BOTHER, IBSHIFT; the B0..B4000000
// values of baud_bits[] are 0..017, then CBAUDEX | 1..017.
constexpr uint32_t cbaud = 0010017, bother = 0010000, ibshift = 16, cbaudex = 0010000;
// baud_table[] (non-sparc).
constexpr uint32_t baud_table[] = {0,       50,      75,      110,     134,     150,     200,
                                   300,     600,     1200,    1800,    2400,    4800,    9600,
                                   19200,   38400,   57600,   115200,  230400,  460800,  500000,
                                   576000,  921600,  1000000, 1152000, 1500000, 2000000, 2500000,
                                   3000000, 3500000, 4000000};
constexpr uint32_t n_baud_table = sizeof baud_table / sizeof baud_table[0];

constexpr uint32_t baud_bits(uint32_t i) {
    return i < 16 ? i : (cbaudex | (i - 15));
}

}  // namespace

void register_tty_baudrate(Kernel& k) {
    const char* sub = "drivers/tty/tty_baudrate";
    // tty_termios_encode_baud_rate(termios, ibaud, obaud): the speeds stored, c_cflag's CBAUD
    // (and input CBAUD << IBSHIFT) bits set to the standard rate within 2% (exactly for a
    // BOTHER request), BOTHER when none; input bits only when asked for or different.
    k.add_function("tty_termios_encode_baud_rate", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::Ktermios& t = c.kernel.structs().ktermios;
        uint64_t termios = c.arg(0);
        uint32_t ibaud = uint32_t(c.arg(1)), obaud = uint32_t(c.arg(2));
        int ifound = -1, ofound = -1;
        uint32_t iclose = ibaud / 50, oclose = obaud / 50;
        bool ibinput = false;
        if (obaud == 0) ibaud = 0;  // CD dropped
        c.emu.write_u32(termios + t.c_ispeed, ibaud);
        c.emu.write_u32(termios + t.c_ospeed, obaud);
        uint32_t cflag = c.emu.read_u32(termios + t.c_cflag);
        if (((cflag >> ibshift) & cbaud) != 0) ibinput = true;  // != B0
        if ((cflag & cbaud) == bother) {
            oclose = 0;
            if (!ibinput) iclose = 0;
        }
        if (((cflag >> ibshift) & cbaud) == bother) iclose = 0;
        cflag &= ~cbaud;
        cflag &= ~(cbaud << ibshift);
        for (uint32_t i = 0; i < n_baud_table; ++i) {
            // speed_t arithmetic: unsigned, as the kernel's.
            if (obaud - oclose <= baud_table[i] && obaud + oclose >= baud_table[i]) {
                cflag |= baud_bits(i);
                ofound = int(i);
            }
            if (ibaud - iclose <= baud_table[i] && ibaud + iclose >= baud_table[i]) {
                ifound = int(i);
                if (!(ofound == int(i) && !ibinput)) cflag |= baud_bits(i) << ibshift;
            }
        }
        if (ofound == -1) cflag |= bother;
        if (ifound == -1 && (ibaud != obaud || ibinput)) cflag |= bother << ibshift;
        c.emu.write_u32(termios + t.c_cflag, cflag);
        return 0;
    });
}

}  // namespace kmodemu
