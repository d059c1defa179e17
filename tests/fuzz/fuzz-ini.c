/*
 * fuzz-ini.c: the INI readers of the state: an install record (kf_record_read), the transaction
 * journal (kf_journal_parse) and the value encoding both stand on (kf_ini_take, kf_ini_take_list).
 * Input: the text of a record or journal file. A record that reads must read back the same after
 * kf_record_text(), and a value that decodes must survive kf_ini_put(): status and uninstall
 * trust both round trips.
 */
#include "fuzz.h"

#include <ini.h>

#include "txn/record.h"

static bool same(const char *a, const char *b)
{
	/* kf_record_text() writes an absent replaced-file field as an empty value */
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool same_list(char **a, char **b)
{
	size_t i = 0;
	for (; a && a[i]; i++)
		if (!b || !b[i] || strcmp(a[i], b[i]) != 0)
			return false;
	return !b || !b[i];
}

static void check_round_trip(const struct kforge_record *r)
{
	_cleanup_free_ char *text = kf_record_text(r);
	fuzz_assert(text);
	_cleanup_free_ char *path = fuzz_write("again.conf", text, strlen(text));
	struct kforge_record *back = NULL;
	char why[256];
	int r2 = kf_record_read(path, &back, why, sizeof(why));
	if (r2 != 0)
		fprintf(stderr, "the record written back does not read: %s\n", why);
	fuzz_assert(r2 == 0);
	const char *const a[] = { r->module, r->kernel, r->spec, r->kind, r->source, r->strategy,
				  r->plugin, r->install_dir, r->time, r->path, r->sha256 };
	const char *const b[] = { back->module, back->kernel, back->spec, back->kind, back->source, back->strategy,
				  back->plugin, back->install_dir, back->time, back->path, back->sha256 };
	for (size_t i = 0; i < ARRAY_SIZE(a); i++)
		fuzz_assert(same(a[i], b[i]));
	fuzz_assert(same_list(r->changes, back->changes));
	fuzz_assert(same_list(r->extra_symbols, back->extra_symbols));
	fuzz_assert(r->strategy_forced == back->strategy_forced);
	fuzz_assert(r->install_dir_forced == back->install_dir_forced);
	fuzz_assert(r->n_replaced == back->n_replaced);
	for (size_t i = 0; i < r->n_replaced; i++) {
		fuzz_assert(same(r->replaced[i].path, back->replaced[i].path));
		fuzz_assert(same(r->replaced[i].sha256, back->replaced[i].sha256));
		fuzz_assert(same(r->replaced[i].backup, back->replaced[i].backup));
	}
	kf_record_free(back);
}

/* What kf_ini_put() writes for VALUE, read back by the handler the state's readers share. */
static int again_handler(void *data, const char *section, const char *key, const char *value)
{
	return kf_ini_take(data, value) == 0;
}

static void check_value_round_trip(const char *value)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	fuzz_assert(f);
	fputs("[s]\n", f);
	kf_ini_put(f, "k", value);
	fclose(f);
	_cleanup_free_ char *back = NULL;
	fuzz_assert(ini_parse_string(text, again_handler, &back) == 0);
	fuzz_assert(same(value, back));
	free(text);
}

struct taken {
	char *value;
	struct kf_strv list;
};

/* Every value of the input through both decoders, as the record and journal handlers use them. */
static int take_handler(void *data, const char *section, const char *key, const char *value)
{
	struct taken *t = data;
	if (kf_ini_take(&t->value, value) == 0 && value[0] != '+')
		check_value_round_trip(t->value);
	kf_ini_take_list(&t->list, value);
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *path = fuzz_write("record.conf", data, size);
	struct kforge_record *r = NULL;
	char why[256];
	if (kf_record_read(path, &r, why, sizeof(why)) == 0) {
		fuzz_assert(r->module && r->kernel && r->path && r->sha256);
		check_round_trip(r);
		kf_record_free(r);
	} else {
		/* the reason is a string that fits: kforge status prints it */
		fuzz_assert(strnlen(why, sizeof(why)) < sizeof(why));
	}

	kf_journal_parse(path);

	_cleanup_free_ char *text = fuzz_string(data, size);
	struct taken t = { 0 };
	ini_parse_string(text, take_handler, &t);
	free(t.value);
	kf_strv_free(&t.list);
	return 0;
}
