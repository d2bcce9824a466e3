/* Heap (newlib malloc over libgloss sbrk, growing from _end towards the stack): many allocations,
 * free/reuse, realloc growth with content preserved, calloc zeroing, a linked list, qsort/bsearch. */
#include "ft900_test.h"
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; int value; char name[12]; };

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    /* many small blocks with distinct patterns */
    unsigned char *blk[64];
    for (int i = 0; i < 64; i++) {
        blk[i] = malloc(16 + i * 7);
        if (!blk[i]) { printf("malloc %d failed\n", i); return 100; }
        memset(blk[i], i, 16 + i * 7);
    }
    int bad = 0;
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 16 + i * 7; j++)
            bad += blk[i][j] != i;
    CHECK("64 blocks keep their contents", bad, 0);
    CHECK("blocks are 4-byte aligned", ((unsigned)blk[5] | (unsigned)blk[17]) & 3, 0);
    for (int i = 0; i < 64; i += 2)
        free(blk[i]);
    for (int i = 0; i < 64; i += 2) {
        blk[i] = malloc(10);
        memset(blk[i], 0xee, 10);
    }
    bad = 0;
    for (int i = 1; i < 64; i += 2)
        for (int j = 0; j < 16 + i * 7; j++)
            bad += blk[i][j] != i;
    CHECK("odd blocks intact after free/reuse", bad, 0);
    for (int i = 0; i < 64; i++)
        free(blk[i]);

    /* realloc growth */
    int *v = 0;
    int n = 0;
    for (int step = 1; step <= 12; step++) {
        v = realloc(v, sizeof(int) * step * 50);
        for (; n < step * 50; n++)
            v[n] = n * n;
    }
    bad = 0;
    for (int i = 0; i < n; i++)
        bad += v[i] != i * i;
    CHECK("realloc keeps contents (600 ints)", bad, 0);
    free(v);

    /* calloc zeroes */
    unsigned *z = calloc(300, sizeof(unsigned));
    unsigned acc = 0;
    for (int i = 0; i < 300; i++)
        acc |= z[i];
    CHECK("calloc zeroed", acc, 0);
    free(z);

    /* linked list */
    struct node *head = 0;
    for (int i = 0; i < 100; i++) {
        struct node *nd = malloc(sizeof *nd);
        nd->value = i * 3 - 50;
        snprintf(nd->name, sizeof nd->name, "n%d", i);
        nd->next = head;
        head = nd;
    }
    int sum = 0, count = 0;
    for (struct node *p = head; p; p = p->next) {
        sum += p->value;
        count++;
    }
    CHECK("list count", count, 100);
    CHECK("list sum", sum, 3 * 4950 - 5000);
    CHECK("list head name", strcmp(head->name, "n99"), 0);
    while (head) {
        struct node *nx = head->next;
        free(head);
        head = nx;
    }

    /* qsort / bsearch */
    int arr[200];
    unsigned seed = 12345;
    for (int i = 0; i < 200; i++) {
        seed = seed * 1103515245 + 12345;
        arr[i] = (int)(seed >> 8) % 10000 - 5000;
    }
    qsort(arr, 200, sizeof arr[0], cmp_int);
    bad = 0;
    for (int i = 1; i < 200; i++)
        bad += arr[i - 1] > arr[i];
    CHECK("qsort ordered", bad, 0);
    SHOW("qsort min", arr[0]);
    SHOW("qsort max", arr[199]);
    int key = arr[123];
    int *found = bsearch(&key, arr, 200, sizeof arr[0], cmp_int);
    CHECK("bsearch finds", found && *found == key, 1);

    /* one larger block, then the heap end is printed (same layout in both simulators) */
    char *big = malloc(20000);
    CHECK("20000-byte block", big != 0, 1);
    memset(big, 'b', 20000);
    CHECK("big block last byte", big[19999], 'b');
    free(big);
    return ft_done("malloc");
}
