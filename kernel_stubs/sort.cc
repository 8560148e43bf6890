// lib/sort.c: sort() and sort_r(), the kernel's bottom-up heapsort, with the module's compare
// (and swap) functions called in the guest, in the same order as the kernel calls them.
#include <cstring>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

// parent() in lib/sort.c
size_t parent(size_t i, size_t lsbit, size_t size) {
    i -= size;
    i -= size & (0 - (i & lsbit));
    return i / 2;
}

uint64_t do_sort(StubCall& c, uint64_t base, size_t num, size_t size, uint64_t cmp, uint64_t swap,
                 bool with_priv, uint64_t priv) {
    size_t n = num * size, a = (num / 2) * size;
    const size_t lsbit = size & (0 - size);
    if (!a) return 0;
    Kernel& k = c.kernel;
    auto do_cmp = [&](size_t x, size_t y) {
        uint64_t r = with_priv ? k.call_guest(cmp, {base + x, base + y, priv})
                               : k.call_guest(cmp, {base + x, base + y});
        return static_cast<int32_t>(r);
    };
    auto do_swap = [&](size_t x, size_t y) {
        if (swap) {
            // swap_func_t (a, b, int size); swap_r_func_t adds priv.
            if (with_priv)
                k.call_guest(swap, {base + x, base + y, size, priv});
            else
                k.call_guest(swap, {base + x, base + y, size});
            return;
        }
        auto ex = c.read(base + x, size), ey = c.read(base + y, size);
        c.write(base + x, ey.data(), size);
        c.write(base + y, ex.data(), size);
    };
    for (;;) {
        size_t b, cc, d;
        if (a) {
            a -= size;
        } else if (n -= size) {
            do_swap(0, n);
        } else {
            break;
        }
        for (b = a; cc = 2 * b + size, (d = cc + size) < n;)
            b = do_cmp(cc, d) >= 0 ? cc : d;
        if (d == n) b = cc;
        while (b != a && do_cmp(a, b) >= 0)
            b = parent(b, lsbit, size);
        cc = b;
        while (b != a) {
            b = parent(b, lsbit, size);
            do_swap(b, cc);
        }
    }
    return 0;
}

}  // namespace

void register_sort(Kernel& k) {
    const char* sub = "sort";
    // sort(base, num, size, cmp_func, swap_func)
    k.add_function("sort", sub, [](StubCall& c) {
        return do_sort(c, c.arg(0), c.arg(1), c.arg(2), c.arg(3), c.arg(4), false, 0);
    });
    // sort_r(base, num, size, cmp_func, swap_func, priv)
    k.add_function("sort_r", sub, [](StubCall& c) {
        return do_sort(c, c.arg(0), c.arg(1), c.arg(2), c.arg(3), c.arg(4), true, c.arg(5));
    });
}

}  // namespace kmodemu
