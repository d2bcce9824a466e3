/* Shared helpers for the ft900-sim guest tests (compiled with ft32-elf-gcc -msim).
 *
 * Every test prints each value it computes (so the differential suite compares the two simulators
 * byte for byte) and checks it against the value docs/hardware/isa.md (§2.5–2.11) gives;
 * main() returns the number of mismatches (0 = pass), so the reference simulator must exit 0.
 */
#ifndef FT900_TEST_H
#define FT900_TEST_H

#include <stdio.h>

static int ft_failures;
static int ft_checks;

static void __attribute__((noinline)) ft_check32(const char *what, int line, unsigned got, unsigned expected)
{
    ft_checks++;
    printf("%-40s %08x", what, got);
    if (got != expected) {
        printf("  MISMATCH: expected %08x (line %d)", expected, line);
        ft_failures++;
    }
    printf("\n");
}

/* Print a value without checking it (still compared between the simulators). */
static void __attribute__((noinline)) ft_show32(const char *what, unsigned got)
{
    printf("%-40s %08x\n", what, got);
}

#define CHECK(what, got, expected) ft_check32((what), __LINE__, (unsigned)(got), (unsigned)(expected))
#define SHOW(what, got) ft_show32((what), (unsigned)(got))

static int __attribute__((noinline)) ft_done(const char *name)
{
    printf("%s: %d checks, %d failures\n", name, ft_checks, ft_failures);
    return ft_failures > 255 ? 255 : ft_failures;
}

/* ---- inline-asm helpers ------------------------------------------------------------------------ */

/* rd = op(a, b) with a register second operand, e.g. ASM_RR("ashl.l", x, n) */
#define ASM_RR(op, a, b) ({ unsigned _r; __asm__ volatile(op " %0,%1,%2" : "=r"(_r) : "r"((unsigned)(a)), "r"((unsigned)(b))); _r; })
/* rd = op(a, #imm): imm is pasted into the assembly text (assembler expression) */
#define ASM_RI(op, a, imm) ({ unsigned _r; __asm__ volatile(op " %0,%1," #imm : "=r"(_r) : "r"((unsigned)(a))); _r; })

/* The flag word ($cc = r30) after a CMP-pattern instruction */
#define CC_RR(op, a, b) ({ unsigned _r; __asm__ volatile(op " %1,%2\n\tmove.l %0,$cc" : "=r"(_r) : "r"((unsigned)(a)), "r"((unsigned)(b)) : "$cc"); _r; })
#define CC_RI(op, a, imm) ({ unsigned _r; __asm__ volatile(op " %1," #imm "\n\tmove.l %0,$cc" : "=r"(_r) : "r"((unsigned)(a)) : "$cc"); _r; })

#endif
