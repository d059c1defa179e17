/* osrelease.c: /etc/os-release under the root, and the ID/ID_LIKE helpers probes use. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "base/ctx.h"

/* Unquotes an os-release value in place: "...", '...', backslash escapes in double quotes. */
static char *unquote(char *v)
{
	v = kf_strstrip(v);
	char q = v[0];
	if (q != '"' && q != '\'')
		return v;
	char *w = v, *r = v + 1;
	while (*r && *r != q) {
		if (q == '"' && *r == '\\' && r[1])
			r++;
		*w++ = *r++;
	}
	*w = '\0';
	return v;
}

int kf_os_release_parse(const char *text, struct kf_os_release *out)
{
	memset(out, 0, sizeof(*out));
	_cleanup_free_ char *copy = strdup(text ? text : "");
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line = kf_strstrip(line);
		if (line[0] == '#' || !line[0])
			continue;
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		char *key = kf_strstrip(line), *val = unquote(eq + 1);
		char **slot = strcmp(key, "ID") == 0		 ? &out->id
			      : strcmp(key, "ID_LIKE") == 0	 ? &out->id_like
			      : strcmp(key, "VERSION_ID") == 0 ? &out->version_id
			      : strcmp(key, "NAME") == 0	 ? &out->name
							 : NULL;
		if (!slot)
			continue;
		free(*slot);
		*slot = strdup(val);
		if (!*slot)
			return -ENOMEM;
	}
	char **fields[] = { &out->id, &out->id_like, &out->version_id, &out->name };
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (!*fields[i] && !(*fields[i] = strdup("")))
			return -ENOMEM;
	out->pub.id = out->id;
	out->pub.id_like = out->id_like;
	out->pub.version_id = out->version_id;
	out->pub.name = out->name;
	return 0;
}

int kf_os_release_read(struct kforge_ctx *ctx, const char *root, struct kf_os_release *out)
{
	static const char *const paths[] = { "/etc/os-release", "/usr/lib/os-release" };
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		_cleanup_free_ char *host = kforge_path_find(root, paths[i]);
		_cleanup_free_ char *text = NULL;
		if (!host)
			continue;
		int r = kf_read_file(host, &text, NULL);
		if (r == 0)
			return kf_os_release_parse(text, out);
		if (r == -ENOMEM)
			return r;
		/*
		 * A FIFO or a damaged file here must not stop kforge (nor hang it): it is as if
		 * there were none, and the probes then see an unknown system. Say so.
		 */
		const char *fix = i == 0 ? "make it a regular file or a link to /usr/lib/os-release"
					 : "make it a regular file";
		if (ctx && r == -EINVAL)
			kf_warn(ctx, "%s is not a regular file: ignored, as if there were no %s (fix: %s)", host,
				paths[i], fix);
		else if (ctx)
			kf_warn(ctx, "%s: %s: ignored, as if there were no %s (fix: %s)", host, kf_read_strerror(r),
				paths[i], fix);
	}
	return kf_os_release_parse("", out);
}

void kf_os_release_free(struct kf_os_release *os)
{
	free(os->id);
	free(os->id_like);
	free(os->version_id);
	free(os->name);
	memset(os, 0, sizeof(*os));
}

static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	if (!list || !n || strpbrk(word, " \t"))
		return 0;
	for (const char *p = list; (p = strstr(p, word)); p += n) {
		bool start = p == list || p[-1] == ' ' || p[-1] == '\t';
		bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\t';
		if (start && end)
			return 1;
	}
	return 0;
}

int kforge_os_is(const struct kforge_os_release *os, const char *word)
{
	return os && os->id && strcmp(os->id, word) == 0;
}

int kforge_os_is_like(const struct kforge_os_release *os, const char *word)
{
	return os && has_word(os->id_like, word);
}

const struct kforge_os_release *kforge_ctx_os_release(struct kforge_ctx *ctx)
{
	if (!ctx->os_loaded) {
		if (kf_os_release_read(ctx, ctx->root, &ctx->os) < 0)
			return NULL;
		ctx->os_loaded = true;
	}
	return &ctx->os.pub;
}
