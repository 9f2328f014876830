/*
 * fiber_switch.S -- the context switch under hyper_fiber.c.
 *
 * void hyper_ctx_switch(void **save_sp, void *new_sp)
 *	Push the callee-saved registers of the calling context on its own
 *	stack, store the stack pointer through save_sp, load new_sp and pop the
 *	registers of the context saved there.  Nothing else is saved: no signal
 *	mask (that is what makes this fast next to swapcontext), caller-saved
 *	registers are dead across a call by the ABI.
 *
 * void hyper_ctx_entry(void)
 *	First "return address" of a new context: calls hyper_fiber_main(fiber)
 *	with the fiber pointer the creator left in a callee-saved register.
 *	hyper_fiber_main never returns.
 *
 * The frame layouts are mirrored in ctx_init() in hyper_fiber.c.
 */
#if defined(__x86_64__)

	.text
	.globl	hyper_ctx_switch
	.type	hyper_ctx_switch, @function
	.p2align 4
hyper_ctx_switch:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$16, %rsp
	stmxcsr	8(%rsp)		/* SysV: MXCSR control bits are callee-saved */
	fnstcw	(%rsp)		/* and so is the x87 control word */
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	ldmxcsr	8(%rsp)
	fldcw	(%rsp)
	addq	$16, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size	hyper_ctx_switch, .-hyper_ctx_switch

	.globl	hyper_ctx_entry
	.type	hyper_ctx_entry, @function
	.p2align 4
hyper_ctx_entry:
	movq	%rbx, %rdi
	call	hyper_fiber_main
	ud2
	.size	hyper_ctx_entry, .-hyper_ctx_entry

#elif defined(__aarch64__)

	.text
	.globl	hyper_ctx_switch
	.type	hyper_ctx_switch, %function
	.p2align 4
hyper_ctx_switch:
	sub	sp, sp, #176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mov	x2, sp
	str	x2, [x0]
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #176
	ret
	.size	hyper_ctx_switch, .-hyper_ctx_switch

	.globl	hyper_ctx_entry
	.type	hyper_ctx_entry, %function
	.p2align 4
hyper_ctx_entry:
	mov	x0, x19
	bl	hyper_fiber_main
	brk	#0
	.size	hyper_ctx_entry, .-hyper_ctx_entry

#else
#error "fiber_switch.S: no context switch for this architecture"
#endif

	.section .note.GNU-stack,"",%progbits
