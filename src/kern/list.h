/*
 * list.h -- an intrusive, circular, doubly-linked list: O(1) insert and
 * remove, used by callout wheels and wait queues.  Plain inline functions
 * (no token-pasting macros), so every use can be found with grep.
 */
#ifndef KERN_LIST_H
#define KERN_LIST_H

#include "libkern.h"

struct list_node {
	struct list_node *ln_next;
	struct list_node *ln_prev;
};

static inline void
list_init(struct list_node *head)
{
	head->ln_next = head->ln_prev = head;
}

static inline bool
list_empty(const struct list_node *head)
{
	return head->ln_next == head;
}

/* list_linked: a node initialised with list_node_init() is on no list. */
static inline void
list_node_init(struct list_node *n)
{
	n->ln_next = n->ln_prev = NULL;
}

static inline bool
list_linked(const struct list_node *n)
{
	return n->ln_next != NULL;
}

static inline void
list_insert_tail(struct list_node *head, struct list_node *n)
{
	n->ln_prev = head->ln_prev;
	n->ln_next = head;
	head->ln_prev->ln_next = n;
	head->ln_prev = n;
}

static inline void
list_remove(struct list_node *n)
{
	n->ln_prev->ln_next = n->ln_next;
	n->ln_next->ln_prev = n->ln_prev;
	n->ln_next = n->ln_prev = NULL;
}

static inline struct list_node *
list_first(const struct list_node *head)
{
	return list_empty(head) ? NULL : head->ln_next;
}

#endif /* KERN_LIST_H */
