// lib/kobject.c and fs/sysfs: kobjects, ksets and the sysfs names they take. The names live
// here, a directory per parent kobject (the kset's when there is no parent; the root of sysfs
// when neither), so that a second name in one directory fails as the kernel's does. A kobject's
// name, parent, kset, ktype and reference count are its own fields in guest memory (modules read
// them inline); kmodemu records which kobjects it initialised and added.
#include <cerrno>
#include <map>
#include <set>

#include "kernel_stubs/lib/kobject.h"

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/printk.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Kobjects : Kernel::SubsystemState {
    struct Obj {
        bool in_sysfs = false;
        uint64_t dir = 0;  // the directory its name is in
    };
    std::map<uint64_t, Obj> objs;                    // initialised kobjects
    std::map<uint64_t, std::set<std::string>> dirs;  // directory kobject -> names
    std::map<std::pair<uint64_t, std::string>, std::set<std::string>> files;  // (kobj, group)
    uint64_t dynamic_ktype = 0, kset_ktype = 0;
};

const KernelStructs::Kobject& L(Kernel& k) {
    return k.structs().kobject;
}

uint64_t word(Kernel& k, uint64_t a) {
    return k.emu().read_word(a);
}

std::string name_of(Kernel& k, uint64_t kobj) {
    std::string s;
    if (uint64_t p = word(k, kobj + L(k).name)) k.emu().read_cstring(p, 256, s);
    return s;
}

uint32_t kref(Kernel& k, uint64_t kobj) {
    uint32_t v = 0;
    k.emu().read(kobj + L(k).kref, &v, 4);
    return v;
}

void set_kref(Kernel& k, uint64_t kobj, uint32_t v) {
    k.emu().write(kobj + L(k).kref, &v, 4);
}

// kobject_set_name_vargs(): the name, kmalloc'ed (the old one freed).
void set_name(Kernel& k, uint64_t kobj, const std::string& name) {
    uint64_t old = word(k, kobj + L(k).name);
    uint64_t p = k.slab_alloc(name.size() + 1, 0);
    if (!p) return;
    k.emu().write(p, name.c_str(), name.size() + 1);
    k.emu().write_word(kobj + L(k).name, p);
    if (old) k.slab().free(old);
}

// kobject_init_internal()
void init(Kernel& k, uint64_t kobj, uint64_t ktype) {
    Kobjects& ko = k.state<Kobjects>();
    if (ko.objs.count(kobj))
        k.log(3, "kobject (" + hashed_pointer(k, kobj) +
                     "): tried to init an initialized object, something is seriously wrong.");
    set_kref(k, kobj, 1);
    uint64_t entry = kobj + L(k).entry;
    k.emu().write_word(entry, entry);
    k.emu().write_word(entry + k.word(), entry);
    k.emu().write_word(kobj + L(k).ktype, ktype);
    ko.objs[kobj] = {};
}

// sysfs_warn_dup()
void warn_dup(Kernel& k, const std::string& path) {
    k.log(4, "sysfs: cannot create duplicate filename '" + path + "'");
    k.diag("sysfs_warn_dup(): the kernel's dump_stack() is not reproduced");
}

// kobject_add_internal(): 0, -EINVAL (no name) or -EEXIST (the name is taken).
int add(Kernel& k, uint64_t kobj) {
    Kobjects& ko = k.state<Kobjects>();
    std::string name = name_of(k, kobj);
    if (name.empty()) {
        k.log(4, "kobject: (" + hashed_pointer(k, kobj) +
                     "): attempted to be registered with empty name!");
        k.diag("kobject_add_internal(): the kernel's WARN report is reduced to its message");
        return -EINVAL;
    }
    uint64_t parent = word(k, kobj + L(k).parent);
    uint64_t kset = word(k, kobj + L(k).kset);
    if (kset && !parent) {
        parent = kset + L(k).kset_kobj;
        k.emu().write_word(kobj + L(k).parent, parent);
    }
    if (!ko.dirs[parent].insert(name).second) {
        warn_dup(k, kobject_path(k, kobj));
        k.emu().write_word(kobj + L(k).parent, 0);
        k.log(3, "kobject_add_internal failed for " + name +
                     " with -EEXIST, don't try to register things with the same name in the same "
                     "directory.");
        return -EEXIST;
    }
    if (parent && ko.objs.count(parent)) set_kref(k, parent, kref(k, parent) + 1);
    ko.objs[kobj].in_sysfs = true;
    ko.objs[kobj].dir = parent;
    return 0;
}

// __kobject_del(): its name leaves its directory, its sysfs files go.
void del(Kernel& k, uint64_t kobj);

void put(Kernel& k, uint64_t kobj) {
    Kobjects& ko = k.state<Kobjects>();
    if (!kobj || !ko.objs.count(kobj)) return;
    uint32_t r = kref(k, kobj);
    if (r > 1) {
        set_kref(k, kobj, r - 1);
        return;
    }
    set_kref(k, kobj, 0);
    // kobject_cleanup()
    uint64_t name = word(k, kobj + L(k).name);
    if (ko.objs[kobj].in_sysfs) del(k, kobj);
    ko.objs.erase(kobj);
    uint64_t ktype = word(k, kobj + L(k).ktype);
    if (ktype) {
        if (uint64_t release = word(k, ktype + L(k).ktype_release)) k.call_guest(release, {kobj});
    }
    if (name) k.slab().free(name);
}

void del(Kernel& k, uint64_t kobj) {
    Kobjects& ko = k.state<Kobjects>();
    auto it = ko.objs.find(kobj);
    if (it == ko.objs.end() || !it->second.in_sysfs) return;
    ko.dirs[it->second.dir].erase(name_of(k, kobj));
    for (auto f = ko.files.begin(); f != ko.files.end();)
        f = f->first.first == kobj ? ko.files.erase(f) : std::next(f);
    uint64_t parent = it->second.dir;
    it->second.in_sysfs = false;
    if (word(k, kobj + L(k).parent) == parent) k.emu().write_word(kobj + L(k).parent, 0);
    put(k, parent);
}

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

// A kobj_type in kernel data whose release is the stub `release`.
uint64_t kernel_ktype(Kernel& k, const char* release_name, StubFn release) {
    uint64_t fn = k.add_function(release_name, "lib/kobject", std::move(release)).address;
    uint64_t t = k.alloc_data(L(k).ktype_release + 8 * k.word());
    k.emu().write_word(t + L(k).ktype_release, fn);
    return t;
}

// A kobject in kernel data, added at boot under `parent` (kernel_kobj and its kind).
uint64_t kernel_kobject(Kernel& k, const char* export_name, const std::string& name,
                        uint64_t parent) {
    uint64_t obj = k.alloc_data(L(k).size);
    init(k, obj, 0);
    set_name(k, obj, name);
    k.emu().write_word(obj + L(k).parent, parent);
    add(k, obj);
    uint64_t p = obj;
    std::vector<uint8_t> ptr(k.word());
    std::copy_n(reinterpret_cast<const uint8_t*>(&p), k.word(), ptr.data());
    if (export_name) k.add_data(export_name, "lib/kobject", ptr.size(), ptr.data(), true);
    return obj;
}

}  // namespace

std::string kobject_path(Kernel& k, uint64_t kobj) {
    std::string path;
    for (int depth = 0; kobj && depth < 64; ++depth) {
        path = "/" + name_of(k, kobj) + path;
        kobj = word(k, kobj + L(k).parent);
    }
    return path;
}

void register_kobject(Kernel& k) {
    const char* sub = "lib/kobject";
    Kobjects& ko = k.state<Kobjects>();
    // dynamic_kobj_release() and kset_release(): the kfree() of what kobject_create() and
    // kset_create() allocated.
    ko.dynamic_ktype = kernel_ktype(k, "dynamic_kobj_release", [](StubCall& c) -> uint64_t {
        c.kernel.slab().free(c.arg(0));
        return 0;
    });
    ko.kset_ktype = kernel_ktype(k, "kset_release", [](StubCall& c) -> uint64_t {
        c.kernel.slab().free(c.arg(0) - L(c.kernel).kset_kobj);
        return 0;
    });
    // The kobjects of sysfs's top directories that modules hang theirs under.
    kernel_kobject(k, "kernel_kobj", "kernel", 0);
    kernel_kobject(k, "mm_kobj", "mm", 0);
    kernel_kobject(k, "fs_kobj", "fs", 0);
    kernel_kobject(k, "firmware_kobj", "firmware", 0);
    kernel_kobject(k, "hypervisor_kobj", "hypervisor", 0);
    kernel_kobject(k, "power_kobj", "power", 0);

    k.add_function("kobject_init", sub, [](StubCall& c) -> uint64_t {
        init(c.kernel, c.arg(0), c.arg(1));
        return 0;
    });
    k.add_function("kobject_set_name", sub, [](StubCall& c) -> uint64_t {
        set_name(c.kernel, c.arg(0), format_guest_args(c, c.arg(1), 2));
        return 0;
    });
    // kobject_add(kobj, parent, fmt, ...)
    k.add_function("kobject_add", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        if (!k.state<Kobjects>().objs.count(c.arg(0)))
            c.unimplemented("kobject_add (of a kobject never initialised: the kernel's WARN)");
        set_name(k, c.arg(0), format_guest_args(c, c.arg(2), 3));
        k.emu().write_word(c.arg(0) + L(k).parent, c.arg(1));
        return ret(add(k, c.arg(0)));
    });
    // kobject_init_and_add(kobj, ktype, parent, fmt, ...)
    k.add_function(
        "kobject_init_and_add", sub,
        [](StubCall& c) -> uint64_t {
            Kernel& k = c.kernel;
            init(k, c.arg(0), c.arg(1));
            set_name(k, c.arg(0), format_guest_args(c, c.arg(3), 4));
            k.emu().write_word(c.arg(0) + L(k).parent, c.arg(2));
            return ret(add(k, c.arg(0)));
        },
        true);
    // kobject_create_and_add(name, parent): a new kobject, or NULL.
    k.add_function(
        "kobject_create_and_add", sub,
        [](StubCall& c) -> uint64_t {
            Kernel& k = c.kernel;
            uint64_t obj = k.slab_alloc(L(k).size, gfp_zero);
            if (!obj) return 0;
            init(k, obj, k.state<Kobjects>().dynamic_ktype);
            set_name(k, obj, c.read_cstr(c.arg(0)));
            k.emu().write_word(obj + L(k).parent, c.arg(1));
            if (add(k, obj)) {
                put(k, obj);
                return 0;
            }
            return obj;
        },
        true);
    k.add_function("kobject_get", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(0) && c.kernel.state<Kobjects>().objs.count(c.arg(0)))
            set_kref(c.kernel, c.arg(0), kref(c.kernel, c.arg(0)) + 1);
        return c.arg(0);
    });
    k.add_function("kobject_put", sub, [](StubCall& c) -> uint64_t {
        put(c.kernel, c.arg(0));
        return 0;
    });
    k.add_function("kobject_del", sub, [](StubCall& c) -> uint64_t {
        del(c.kernel, c.arg(0));
        return 0;
    });
    // kset_create_and_add(name, uevent_ops, parent_kobj): a new kset, or NULL.
    k.add_function(
        "kset_create_and_add", sub,
        [](StubCall& c) -> uint64_t {
            Kernel& k = c.kernel;
            uint64_t kset = k.slab_alloc(L(k).kset_size, gfp_zero);
            if (!kset) return 0;
            uint64_t obj = kset + L(k).kset_kobj;
            uint64_t list = kset + L(k).kset_list;
            k.emu().write_word(list, list);
            k.emu().write_word(list + k.word(), list);
            init(k, obj, k.state<Kobjects>().kset_ktype);
            set_name(k, obj, c.read_cstr(c.arg(0)));
            k.emu().write_word(obj + L(k).parent, c.arg(2));
            if (add(k, obj)) {
                put(k, obj);
                return 0;
            }
            return kset;
        },
        true);
    // kset_register(kset): its kobject (named already) added.
    k.add_function("kset_register", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t obj = c.arg(0) + L(k).kset_kobj;
        uint64_t list = c.arg(0) + L(k).kset_list;
        k.emu().write_word(list, list);
        k.emu().write_word(list + k.word(), list);
        init(k, obj, word(k, obj + L(k).ktype));
        return ret(add(k, obj));
    });
    k.add_function("kset_unregister", sub, [](StubCall& c) -> uint64_t {
        if (!c.arg(0)) return 0;
        uint64_t obj = c.arg(0) + L(c.kernel).kset_kobj;
        del(c.kernel, obj);
        put(c.kernel, obj);
        return 0;
    });
}

}  // namespace kmodemu
