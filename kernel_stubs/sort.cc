// lib/sort.c: sort() and sort_r(), the kernel's bottom-up heapsort, with the module's compare
// (and swap) functions called in the guest, in the same order as the kernel calls them.
#include <cstring>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"

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
    // 6.11 extracts the two largest elements at a time ("double-pop" heapsort) and finishes
    // the last two or three after the loop; on the way down it follows the right child when
    // the two compare equal (the recordings of sorter_keys tell the order of equal keys).
    const bool double_pop = kernel_since(k.config().profile.get(), 6, 11);
    size_t shift = 0;
    for (;;) {
        size_t b, cc, d;
        if (a) {
            a -= size << shift;
        } else if (double_pop && n > 3 * size) {
            n -= size;
            do_swap(0, n);
            shift = do_cmp(size, 2 * size) <= 0;
            a = size << shift;
            n -= size;
            do_swap(a, n);
        } else if (!double_pop && (n -= size)) {
            do_swap(0, n);
        } else {
            break;
        }
        for (b = a; cc = 2 * b + size, (d = cc + size) < n;)
            b = (double_pop ? do_cmp(cc, d) > 0 : do_cmp(cc, d) >= 0) ? cc : d;
        if (d == n) b = cc;
        while (b != a && do_cmp(a, b) >= 0)
            b = parent(b, lsbit, size);
        cc = b;
        while (b != a) {
            b = parent(b, lsbit, size);
            do_swap(b, cc);
        }
    }
    if (double_pop) {
        n -= size;
        do_swap(0, n);
        if (n == size * 2 && do_cmp(0, size) > 0) do_swap(0, size);
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
