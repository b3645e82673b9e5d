/*
 * vips-recrop: the libvips side of the re-crop benchmark, in ONE long-running
 * process, like canvasd's BenchmarkRecropCold/Warm (scripts/bench-recrop.sh
 * builds and runs it). Python's pyvips is not packaged for Debian 12, so this
 * calls the same libvips C API that pyvips wraps.
 *
 * The page's PNG bytes are read into memory once (as the Go benchmark does),
 * libvips' operation cache is switched off (or a repeated cold crop would be
 * a cache hit), and then, N times each:
 *
 *   cold        new_from_buffer (default access) + crop + pngsave_buffer compression=1
 *   cold-seq    the same with access=sequential (libvips may stop decoding
 *               below the crop: its best case)
 *   warm        crop + pngsave_buffer of a page decoded into memory once
 *
 * It prints one line per mode: wall ms (median, min, max) and CPU ms per op
 * (user+system from getrusage, all threads), and the output size.
 *
 * Build: cc -O2 -o vips-recrop scripts/vips-recrop.c $(pkg-config --cflags --libs vips)
 * Usage: vips-recrop PAGE.png LEFT TOP WIDTH HEIGHT N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <vips/vips.h>

static double now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int cmp(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void die(const char *what) {
	fprintf(stderr, "vips-recrop: %s: %s\n", what, vips_error_buffer());
	exit(1);
}

static void *page;
static size_t page_len;
static int L, T, W, H;

/* one re-crop; src NULL means decode the page first (cold). */
static size_t recrop(VipsImage *src, int sequential) {
	VipsImage *in = src, *out = NULL;
	void *png = NULL;
	size_t len = 0;
	if (!src) {
		in = sequential ? vips_image_new_from_buffer(page, page_len, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL)
		                : vips_image_new_from_buffer(page, page_len, "", NULL);
		if (!in)
			die("load");
	}
	if (vips_crop(in, &out, L, T, W, H, NULL))
		die("crop");
	if (vips_pngsave_buffer(out, &png, &len, "compression", 1, NULL))
		die("pngsave");
	g_free(png);
	g_object_unref(out);
	if (!src)
		g_object_unref(in);
	return len;
}

static void run(const char *name, VipsImage *src, int sequential, int n) {
	double *wall = calloc(n, sizeof *wall), cpu0;
	size_t bytes = recrop(src, sequential); /* one untimed warm-up */
	cpu0 = cpu_ms();
	for (int i = 0; i < n; i++) {
		double t0 = now_ms();
		bytes = recrop(src, sequential);
		wall[i] = now_ms() - t0;
	}
	double cpu = (cpu_ms() - cpu0) / n;
	qsort(wall, n, sizeof *wall, cmp);
	printf("%-9s median_ms %.1f min_ms %.1f max_ms %.1f cpu_ms %.1f out_bytes %zu n %d\n", name, wall[n / 2], wall[0],
	       wall[n - 1], cpu, bytes, n);
	fflush(stdout);
	free(wall);
}

int main(int argc, char **argv) {
	if (argc != 7) {
		fprintf(stderr, "usage: %s PAGE.png LEFT TOP WIDTH HEIGHT N\n", argv[0]);
		return 2;
	}
	if (VIPS_INIT(argv[0]))
		die("init");
	vips_cache_set_max(0);
	L = atoi(argv[2]), T = atoi(argv[3]), W = atoi(argv[4]), H = atoi(argv[5]);
	int n = atoi(argv[6]);
	gsize len;
	gchar *buf;
	if (!g_file_get_contents(argv[1], &buf, &len, NULL)) {
		fprintf(stderr, "vips-recrop: cannot read %s\n", argv[1]);
		return 1;
	}
	page = buf, page_len = len;
	printf("libvips %s, %d threads\n", vips_version_string(), vips_concurrency_get());
	run("cold", NULL, 0, n);
	run("cold-seq", NULL, 1, n);
	VipsImage *loaded = vips_image_new_from_buffer(page, page_len, "", NULL), *mem;
	if (!loaded || !(mem = vips_image_copy_memory(loaded)))
		die("load to memory");
	run("warm", mem, 0, n);
	g_object_unref(mem);
	g_object_unref(loaded);
	vips_shutdown();
	return 0;
}
