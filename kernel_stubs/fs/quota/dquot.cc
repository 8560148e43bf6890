// fs/quota/dquot.c: the quota formats (quota_v1, quota_v2, ocfs2's), a list linked through
// quota_format_type.qf_next, newest first. register_quota_format() cannot fail: 6.1 returns
// 0, 6.12 returns nothing (void since 6.8).
#include <algorithm>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct QuotaFormats : Kernel::SubsystemState {
    std::vector<uint64_t> formats;  // newest first, as quota_formats links them
};

}  // namespace

void register_dquot(Kernel& k) {
    const char* sub = "fs/quota/dquot";
    // register_quota_format(fmt): fmt->qf_next = quota_formats; quota_formats = fmt.
    k.add_function("register_quota_format", sub, [](StubCall& c) -> uint64_t {
        QuotaFormats& q = c.kernel.state<QuotaFormats>();
        uint64_t fmt = c.arg(0);
        c.emu.write_word(fmt + c.kernel.structs().quota_format_type.qf_next,
                         q.formats.empty() ? 0 : q.formats.front());
        q.formats.insert(q.formats.begin(), fmt);
        return 0;
    });
    // unregister_quota_format(fmt): unlinked from the list (nothing when it is not there).
    k.add_function("unregister_quota_format", sub, [](StubCall& c) -> uint64_t {
        QuotaFormats& q = c.kernel.state<QuotaFormats>();
        auto it = std::find(q.formats.begin(), q.formats.end(), c.arg(0));
        if (it == q.formats.end()) return 0;
        const uint64_t next = c.kernel.structs().quota_format_type.qf_next;
        if (it != q.formats.begin()) c.emu.write_word(*(it - 1) + next, c.emu.read_word(*it + next));
        q.formats.erase(it);
        return 0;
    });
}

}  // namespace kmodemu
