/*
 * bench_text.c -- the text check and the Latin-1 transcoding alone
 * (core/data/text.c, compiled in by bench/load/messy.sh), on a whole file
 * in memory, single-threaded: what the loader adds per byte before it
 * parses.
 *
 *   bench_text FILE [RUNS]
 *
 * Prints one JSON line per run: seconds for xs_text_check and for
 * xs_text_latin1_to_utf8 (its copy freed after each run), the file's MB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "data/text.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_text FILE [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    FILE *f = fopen(argv[1], "rb");
    if (!f || fseek(f, 0, SEEK_END)) {
        perror(argv[1]);
        return 1;
    }
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "bench_text: cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    for (int r = 0; r < runs; r++) {
        size_t at, out_len;
        double t0 = now();
        int kind = xs_text_check(buf, (size_t)n, &at);
        double t1 = now();
        char *u = xs_text_latin1_to_utf8(buf, (size_t)n, &out_len);
        double t2 = now();
        free(u);
        printf("{\"check_s\":%.4f,\"latin1_s\":%.4f,\"mb\":%.1f,"
               "\"utf8\":%s}\n", t1 - t0, t2 - t1, (double)n / 1e6,
               kind == XS_TEXT_OK ? "true" : "false");
    }
    free(buf);
    return 0;
}
