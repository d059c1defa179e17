/* cache.c: kforge cache list|prune (what the cache keeps of sources, and freeing it), and cache fetch (the fetcher's own door). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static void age(long long mtime, char *buf, size_t size)
{
	long long s = (long long)time(NULL) - mtime;
	if (s < 0)
		s = 0;
	if (s < 3600)
		snprintf(buf, size, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh", s / 3600);
	else
		snprintf(buf, size, "%lldd", s / 86400);
}

static int cache_list(struct kforge_ctx *ctx, struct opts *o, struct kforge_job *job)
{
	struct kforge_cache_entry *v = NULL;
	size_t n = 0;
	if (kforge_cache_list(job, &v, &n) < 0)
		return job_code(job);
	const char *dir = kforge_job_cache_dir(job);
	unsigned long long total = 0;
	for (size_t i = 0; i < n; i++)
		total += v[i].size;
	if (o->json) {
		fputs("{", stdout);
		json_kv("cache_dir", dir, true);
		printf("\"size\": %llu, \"entries\": [", total);
		for (size_t i = 0; i < n; i++) {
			fputs(i ? ", {" : "{", stdout);
			json_kv("kind", kforge_cache_kind_name(v[i].kind), true);
			json_kv("key", v[i].key, true);
			json_kv("path", v[i].path, true);
			json_kv("name", v[i].name, true);
			json_kv("url", v[i].url, true);
			printf("\"size\": %llu, \"mtime\": %lld}", v[i].size, v[i].mtime);
		}
		fputs("]", stdout);
		unsigned long long hits, misses;
		if (kforge_ccache_stats(job, &hits, &misses) == 0)
			printf(", \"ccache\": {\"hits\": %llu, \"misses\": %llu}", hits, misses);
		fputs("}\n", stdout);
	} else if (!n) {
		printf("the cache %s holds no sources\n", dir);
	} else {
		printf("%-8s %10s %5s  %s\n", "KIND", "SIZE", "AGE", "ENTRY  NAME  URL");
		for (size_t i = 0; i < n; i++) {
			char sz[32], ag[32];
			kforge_cache_size_text(v[i].size, sz, sizeof(sz));
			age(v[i].mtime, ag, sizeof(ag));
			printf("%-8s %10s %5s  %s", kforge_cache_kind_name(v[i].kind), sz, ag, v[i].key);
			if (v[i].name)
				printf("  %s  %s", v[i].name, v[i].url);
			putchar('\n');
		}
		char sz[32];
		kforge_cache_size_text(total, sz, sizeof(sz));
		printf("%zu entr%s, %s, in %s\n", n, n == 1 ? "y" : "ies", sz, dir);
	}
	unsigned long long hits, misses;
	if (!o->json && kforge_ccache_stats(job, &hits, &misses) == 0)
		printf("ccache: %llu of %llu compiles served from its cache (%.0f%% hits)\n", hits, hits + misses,
		       hits + misses ? 100.0 * (double)hits / (double)(hits + misses) : 0.0);
	kforge_cache_entries_free(v, n);
	(void)ctx;
	return 0;
}

static int cache_prune(struct kforge_ctx *ctx, struct opts *o, struct kforge_job *job)
{
	unsigned long days = 0;
	if (o->older_than) {
		char *end;
		errno = 0;
		days = strtoul(o->older_than, &end, 10);
		if (!o->older_than[0] || *end || errno || o->older_than[0] == '-' || days > 100000) {
			kforge_err(ctx, "--older-than %s: give a number of days, e.g. --older-than 30", o->older_than);
			return KFORGE_EXIT_USAGE;
		}
	}
	struct kforge_cache_entry *v = NULL;
	size_t n = 0;
	if (kforge_cache_prune(job, o->all, (unsigned int)days, &v, &n) < 0)
		return job_code(job);
	unsigned long long total = 0;
	const char *verb = o->dry_run ? "would remove" : "removed";
	for (size_t i = 0; i < n; i++) {
		char sz[32];
		kforge_cache_size_text(v[i].size, sz, sizeof(sz));
		printf("%s %s (%s%s%s)\n", verb, v[i].key, v[i].name ? v[i].name : "", v[i].name ? ", " : "", sz);
		total += v[i].size;
	}
	char sz[32];
	kforge_cache_size_text(total, sz, sizeof(sz));
	if (n)
		printf("%s %s in %zu entr%s of %s\n", o->dry_run ? "would free" : "freed", sz, n, n == 1 ? "y" : "ies",
		       kforge_job_cache_dir(job));
	else
		printf("nothing to prune in %s%s\n", kforge_job_cache_dir(job),
		       o->all ? "" : " (--all removes everything, the git store included)");
	kforge_cache_entries_free(v, n);
	return 0;
}

/* cache fetch URL NAME [CHECKSUM]: kforge_fetch() as the sources of a recipe use it; prints the file's path. */
static int cache_fetch(struct kforge_ctx *ctx, struct opts *o, struct kforge_job *job)
{
	if (!o->dry_run) {
		int r = kforge_job_open_log(job, "fetch");
		if (r < 0)
			kforge_warn(ctx, "no log file can be written (%s): set log.dir in kforge.conf", strerror(-r));
	}
	char *path = NULL;
	int r = kforge_fetch(job, o->args[1], o->args[2], o->n_args > 3 ? o->args[3] : NULL, &path);
	if (r < 0) {
		if (kforge_job_log_path(job))
			kforge_notice(ctx, "log: %s", kforge_job_log_path(job));
		return job_code(job);
	}
	for (unsigned int i = 0; o->dry_run && i < kforge_job_plan_count(job); i++)
		printf("# %s\n", kforge_job_plan_get(job, i)->text);
	printf("%s\n", path);
	free(path);
	return 0;
}

int cmd_cache(struct kforge_ctx *ctx, struct opts *o)
{
	const char *sub = o->n_args ? o->args[0] : "";
	unsigned int want_min = 1, want_max = 1;
	if (strcmp(sub, "fetch") == 0) {
		want_min = 3;
		want_max = 4;
	} else if (strcmp(sub, "list") != 0 && strcmp(sub, "prune") != 0) {
		kforge_err(ctx, "cache needs list or prune (see kforge cache --help)");
		return KFORGE_EXIT_USAGE;
	}
	if (o->n_args < want_min || o->n_args > want_max) {
		kforge_err(ctx, "%s (see kforge cache --help)",
			   o->n_args > want_max ? "too many arguments" : "cache fetch needs URL NAME [sha256:HEX|b2:HEX]");
		return KFORGE_EXIT_USAGE;
	}
	if (o->json && strcmp(sub, "list") != 0) {
		kforge_err(ctx, "cache %s has no --json output", sub);
		return KFORGE_EXIT_USAGE;
	}
	if ((o->all || o->older_than) && strcmp(sub, "prune") != 0) {
		kforge_err(ctx, "--all and --older-than are options of cache prune");
		return KFORGE_EXIT_USAGE;
	}
	if (strcmp(sub, "prune") == 0 && !o->all == !o->older_than) {
		kforge_err(ctx, "cache prune needs --all (everything) or --older-than DAYS (what was not used for DAYS days), "
				"one of the two");
		return KFORGE_EXIT_USAGE;
	}
	struct kforge_job *job = NULL;
	int code = make_job_for(ctx, o, NULL, o->dry_run, true, &job);
	if (code)
		return code;
	if (strcmp(sub, "list") == 0)
		code = cache_list(ctx, o, job);
	else if (strcmp(sub, "prune") == 0)
		code = cache_prune(ctx, o, job);
	else
		code = cache_fetch(ctx, o, job);
	kforge_job_unref(job);
	return code;
}
