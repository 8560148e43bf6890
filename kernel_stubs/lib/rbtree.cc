// lib/rbtree.c: red-black trees, rebalanced in guest memory exactly as the kernel does it, since
// modules walk and link their nodes inline (rb_link_node(), rb_entry(), rb_erase_cached()).
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint64_t rb_red = 0, rb_black = 1;

// The tree in guest memory; rotate is the augmented tree's callback (0: none).
struct Tree {
    StubCall& c;
    uint64_t root;  // struct rb_root *: rb_node at offset 0
    uint64_t rotate = 0;
    const KernelStructs::RbNode& n = c.kernel.structs().rb_node;

    uint64_t pc(uint64_t x) const { return c.emu.read_word(x + n.parent_color); }
    void set_pc(uint64_t x, uint64_t v) const { c.emu.write_word(x + n.parent_color, v); }
    uint64_t parent(uint64_t x) const { return pc(x) & ~uint64_t(3); }
    bool is_black(uint64_t x) const { return pc(x) & 1; }
    bool is_red(uint64_t x) const { return !is_black(x); }
    uint64_t left(uint64_t x) const { return c.emu.read_word(x + n.left); }
    uint64_t right(uint64_t x) const { return c.emu.read_word(x + n.right); }
    void set_left(uint64_t x, uint64_t v) const { c.emu.write_word(x + n.left, v); }
    void set_right(uint64_t x, uint64_t v) const { c.emu.write_word(x + n.right, v); }
    void set_black(uint64_t x) const { set_pc(x, pc(x) | rb_black); }
    void set_parent(uint64_t x, uint64_t p) const { set_pc(x, (pc(x) & 1) | p); }
    void set_parent_color(uint64_t x, uint64_t p, uint64_t color) const { set_pc(x, p | color); }
    void augment_rotate(uint64_t old_node, uint64_t new_node) const {
        if (rotate) c.kernel.call_guest(rotate, {old_node, new_node});
    }
    // __rb_change_child()
    void change_child(uint64_t old_node, uint64_t new_node, uint64_t p) const {
        if (!p)
            c.emu.write_word(root, new_node);
        else if (left(p) == old_node)
            set_left(p, new_node);
        else
            set_right(p, new_node);
    }
    // __rb_rotate_set_parents(): old's parent and colour to new; old gets new and `color`.
    void rotate_set_parents(uint64_t old_node, uint64_t new_node, uint64_t color) const {
        uint64_t p = parent(old_node);
        set_pc(new_node, pc(old_node));
        set_parent_color(old_node, new_node, color);
        change_child(old_node, new_node, p);
    }

    // __rb_insert(): node was linked red by rb_link_node().
    void insert(uint64_t node) const {
        uint64_t par = pc(node);  // rb_red_parent()
        while (true) {
            if (!par) {
                set_parent_color(node, 0, rb_black);
                break;
            }
            if (is_black(par)) break;
            uint64_t gparent = pc(par);
            uint64_t tmp = right(gparent);
            bool parent_is_left = par != tmp;
            // The mirror image: `near` is the side par hangs on, `far` the other.
            auto near = [&](uint64_t x) { return parent_is_left ? left(x) : right(x); };
            auto far = [&](uint64_t x) { return parent_is_left ? right(x) : left(x); };
            auto set_near = [&](uint64_t x, uint64_t v) {
                parent_is_left ? set_left(x, v) : set_right(x, v);
            };
            auto set_far = [&](uint64_t x, uint64_t v) {
                parent_is_left ? set_right(x, v) : set_left(x, v);
            };
            tmp = far(gparent);
            if (tmp && is_red(tmp)) {  // Case 1: colour flips, recurse at gparent
                set_parent_color(tmp, gparent, rb_black);
                set_parent_color(par, gparent, rb_black);
                node = gparent;
                par = parent(node);
                set_parent_color(node, par, rb_red);
                continue;
            }
            tmp = far(par);
            if (node == tmp) {  // Case 2: rotate at parent
                tmp = near(node);
                set_far(par, tmp);
                set_near(node, par);
                if (tmp) set_parent_color(tmp, par, rb_black);
                set_parent_color(par, node, rb_red);
                augment_rotate(par, node);
                par = node;
                tmp = far(node);
            }
            // Case 3: rotate at gparent
            set_near(gparent, tmp);
            set_far(par, gparent);
            if (tmp) set_parent_color(tmp, gparent, rb_black);
            rotate_set_parents(gparent, par, rb_red);
            augment_rotate(gparent, par);
            break;
        }
    }

    // ____rb_erase_color(): parent's subtree on node's side is one black short.
    void erase_color(uint64_t par) const {
        uint64_t node = 0;
        while (true) {
            uint64_t sibling = right(par);
            bool node_is_left = node != sibling;
            auto near = [&](uint64_t x) { return node_is_left ? left(x) : right(x); };
            auto far = [&](uint64_t x) { return node_is_left ? right(x) : left(x); };
            auto set_near = [&](uint64_t x, uint64_t v) {
                node_is_left ? set_left(x, v) : set_right(x, v);
            };
            auto set_far = [&](uint64_t x, uint64_t v) {
                node_is_left ? set_right(x, v) : set_left(x, v);
            };
            sibling = far(par);
            if (is_red(sibling)) {  // Case 1: rotate at parent
                uint64_t tmp1 = near(sibling);
                set_far(par, tmp1);
                set_near(sibling, par);
                set_parent_color(tmp1, par, rb_black);
                rotate_set_parents(par, sibling, rb_red);
                augment_rotate(par, sibling);
                sibling = tmp1;
            }
            uint64_t tmp1 = far(sibling);
            if (!tmp1 || is_black(tmp1)) {
                uint64_t tmp2 = near(sibling);
                if (!tmp2 || is_black(tmp2)) {  // Case 2: sibling colour flip
                    set_parent_color(sibling, par, rb_red);
                    if (is_red(par)) {
                        set_black(par);
                    } else {
                        node = par;
                        par = parent(node);
                        if (par) continue;
                    }
                    break;
                }
                // Case 3: rotate at sibling
                tmp1 = far(tmp2);
                set_near(sibling, tmp1);
                set_far(tmp2, sibling);
                set_far(par, tmp2);
                if (tmp1) set_parent_color(tmp1, sibling, rb_black);
                augment_rotate(sibling, tmp2);
                tmp1 = sibling;
                sibling = tmp2;
            }
            // Case 4: rotate at parent, colour flips
            uint64_t tmp2 = near(sibling);
            set_far(par, tmp2);
            set_near(sibling, par);
            set_parent_color(tmp1, sibling, rb_black);
            if (tmp2) set_parent(tmp2, par);
            rotate_set_parents(par, sibling, rb_black);
            augment_rotate(par, sibling);
            break;
        }
    }

    // __rb_erase_augmented() with the dummy callbacks (rb_erase()), then the rebalance.
    void erase(uint64_t node) const {
        uint64_t child = right(node), tmp = left(node), rebalance = 0;
        if (!tmp) {
            uint64_t p = pc(node), par = p & ~uint64_t(3);
            change_child(node, child, par);
            if (child)
                set_pc(child, p);
            else
                rebalance = (p & 1) ? par : 0;
        } else if (!child) {
            uint64_t p = pc(node);
            set_pc(tmp, p);
            change_child(node, tmp, p & ~uint64_t(3));
        } else {
            uint64_t successor = child, child2, par;
            tmp = left(child);
            if (!tmp) {
                par = successor;
                child2 = right(successor);
            } else {
                do {
                    par = successor;
                    successor = tmp;
                    tmp = left(tmp);
                } while (tmp);
                child2 = right(successor);
                set_left(par, child2);
                set_right(successor, child);
                set_parent(child, successor);
            }
            tmp = left(node);
            set_left(successor, tmp);
            set_parent(tmp, successor);
            uint64_t p = pc(node);
            change_child(node, successor, p & ~uint64_t(3));
            if (child2) {
                set_parent_color(child2, par, rb_black);
            } else {
                rebalance = is_black(successor) ? par : 0;
            }
            set_pc(successor, p);
        }
        if (rebalance) erase_color(rebalance);
    }

    // rb_left_deepest_node()
    uint64_t left_deepest(uint64_t node) const {
        for (;;) {
            if (uint64_t l = left(node))
                node = l;
            else if (uint64_t r = right(node))
                node = r;
            else
                return node;
        }
    }
    // rb_next()/rb_prev(): NULL for an empty node (RB_EMPTY_NODE: its own parent).
    uint64_t step(uint64_t node, bool forward) const {
        if (pc(node) == node) return 0;
        auto ahead = [&](uint64_t x) { return forward ? right(x) : left(x); };
        auto back = [&](uint64_t x) { return forward ? left(x) : right(x); };
        if (uint64_t a = ahead(node)) {
            node = a;
            while (uint64_t b = back(node)) node = b;
            return node;
        }
        uint64_t par;
        while ((par = parent(node)) && node == ahead(par)) node = par;
        return par;
    }
};

uint64_t edge(StubCall& c, bool first) {
    Tree t{c, c.arg(0)};
    uint64_t node = c.emu.read_word(c.arg(0));
    if (!node) return 0;
    while (uint64_t x = first ? t.left(node) : t.right(node)) node = x;
    return node;
}

}  // namespace

void register_rbtree(Kernel& k) {
    const char* sub = "lib/rbtree";
    // rb_insert_color(node, root) / __rb_insert_augmented(node, root, augment_rotate)
    k.add_function("rb_insert_color", sub, [](StubCall& c) -> uint64_t {
        Tree{c, c.arg(1)}.insert(c.arg(0));
        return 0;
    });
    k.add_function("__rb_insert_augmented", sub, [](StubCall& c) -> uint64_t {
        Tree{c, c.arg(1), c.arg(2)}.insert(c.arg(0));
        return 0;
    });
    k.add_function("rb_erase", sub, [](StubCall& c) -> uint64_t {
        Tree{c, c.arg(1)}.erase(c.arg(0));
        return 0;
    });
    // __rb_erase_color(parent, root, augment_rotate): the rebalance of rb_erase_augmented().
    k.add_function("__rb_erase_color", sub, [](StubCall& c) -> uint64_t {
        Tree{c, c.arg(1), c.arg(2)}.erase_color(c.arg(0));
        return 0;
    });
    k.add_function("rb_first", sub, [](StubCall& c) -> uint64_t { return edge(c, true); });
    k.add_function("rb_last", sub, [](StubCall& c) -> uint64_t { return edge(c, false); });
    k.add_function("rb_next", sub,
                   [](StubCall& c) -> uint64_t { return Tree{c, 0}.step(c.arg(0), true); });
    k.add_function("rb_prev", sub,
                   [](StubCall& c) -> uint64_t { return Tree{c, 0}.step(c.arg(0), false); });
    // rb_replace_node(victim, new, root) and its RCU form (the same stores, ordered).
    k.add_functions({"rb_replace_node", "rb_replace_node_rcu"}, sub, [](StubCall& c) -> uint64_t {
        Tree t{c, c.arg(2)};
        uint64_t victim = c.arg(0), repl = c.arg(1), par = t.parent(victim);
        t.set_pc(repl, t.pc(victim));
        t.set_left(repl, t.left(victim));
        t.set_right(repl, t.right(victim));
        if (uint64_t l = t.left(victim)) t.set_parent(l, repl);
        if (uint64_t r = t.right(victim)) t.set_parent(r, repl);
        t.change_child(victim, repl, par);
        return 0;
    });
    k.add_function("rb_first_postorder", sub, [](StubCall& c) -> uint64_t {
        uint64_t node = c.emu.read_word(c.arg(0));
        return node ? Tree{c, c.arg(0)}.left_deepest(node) : 0;
    });
    k.add_function("rb_next_postorder", sub, [](StubCall& c) -> uint64_t {
        Tree t{c, 0};
        uint64_t node = c.arg(0);
        if (!node) return 0;
        uint64_t par = t.parent(node);
        if (par && node == t.left(par) && t.right(par)) return t.left_deepest(t.right(par));
        return par;
    });
}

}  // namespace kmodemu
