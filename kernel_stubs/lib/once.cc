// lib/once.c: DO_ONCE(). The first caller runs the function; __do_once_done() marks it done.
// (The kernel then disables the static key from a work item; where it is not, as here, the next
// call still reaches __do_once_start(), which answers that it was done.)
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_once(Kernel& k) {
    const char* sub = "lib/once";
    // __do_once_start(done, flags): whether *done is still false.
    k.add_functions({"__do_once_start", "__do_once_sleepable_start"}, sub,
                    [](StubCall& c) -> uint64_t { return c.read(c.arg(0), 1)[0] == 0; });
    // __do_once_done(done, once_key, flags, mod): *done = true.
    k.add_functions({"__do_once_done", "__do_once_sleepable_done"}, sub,
                    [](StubCall& c) -> uint64_t {
                        uint8_t one = 1;
                        c.write(c.arg(0), &one, 1);
                        return 0;
                    });
}

}  // namespace kmodemu
