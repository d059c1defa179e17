/*
 * sandbox.c: the command line that runs a recipe's code as the build user without network
 * (kforge_run_sandboxed, pipeline/commands.c): timeout, then unshare --net or bubblewrap (neither with
 * [build] sandbox = none), setpriv when kforge is root, a cleared environment (PWD the working
 * directory). Pure but for kf_sandbox_blocked's stat: the host's facts come in, nothing is run.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"

static int push_all(struct kf_strv *v, const char *const *list)
{
	for (size_t i = 0; list && list[i]; i++)
		if (kf_strv_push(v, list[i]) < 0)
			return -ENOMEM;
	return 0;
}

/* bwrap's --setenv NAME VALUE for "NAME=VALUE" (an entry without '=' is set empty) */
static int push_setenv(struct kf_strv *v, const char *entry)
{
	const char *eq = strchr(entry, '=');
	_cleanup_free_ char *name = eq ? strndup(entry, (size_t)(eq - entry)) : strdup(entry);
	const char *const a[] = { "--setenv", name, eq ? eq + 1 : "", NULL };
	return name ? push_all(v, a) : -ENOMEM;
}

static int sandbox_argv(const struct kforge_sandbox *o, const struct kf_sandbox_host *h, const char *cwd,
			const char *const cmd[], struct kf_strv *v)
{
	const char *home = o->home ? o->home : "/tmp";
	const char *path = h->path && h->path[0] ? h->path : "/usr/bin:/bin";
	char secs[16], uid[32], gid[32];
	snprintf(secs, sizeof(secs), "%u", o->timeout);
	snprintf(uid, sizeof(uid), "--reuid=%u", h->uid);
	snprintf(gid, sizeof(gid), "--regid=%u", h->gid);
	int r = 0;
	/* a recipe that hangs is killed (the runner's watchdog is for kforge's own commands) */
	if (o->timeout) {
		const char *const a[] = { "timeout", "-s", "KILL", secs, NULL };
		r = push_all(v, a);
	}
	/* no bubblewrap: a network namespace of its own, the build user's rights (no folder hidden) */
	if (r == 0 && !o->network && !h->bwrap && !h->no_netns) {
		const char *const a[] = { "unshare", "--net", NULL };
		r = push_all(v, a);
		if (r == 0 && !h->as_root)
			r = kf_strv_push(v, "--map-current-user");
		if (r == 0)
			r = kf_strv_push(v, "--");
	}
	/* bwrap's --uid needs a user namespace it would own as root: drop to the build user first */
	if (r == 0 && h->as_root) {
		const char *const a[] = { "setpriv", uid, gid, "--clear-groups", "--no-new-privs", "--", NULL };
		r = push_all(v, a);
	}
	if (r == 0 && h->bwrap) {
		const char *const a[] = { "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
					  "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
					  "--tmpfs", "/tmp", NULL };
		r = push_all(v, a);
		if (r == 0 && o->network)
			r = kf_strv_push(v, "--share-net");
		/* bound after /tmp is made: a folder under /tmp shows through its own tmpfs */
		for (size_t i = 0; r == 0 && o->readable && o->readable[i]; i++) {
			const char *const b[] = { "--ro-bind", o->readable[i], o->readable[i], NULL };
			r = push_all(v, b);
		}
		for (size_t i = 0; r == 0 && o->writable && o->writable[i]; i++) {
			const char *const b[] = { "--bind", o->writable[i], o->writable[i], NULL };
			r = push_all(v, b);
		}
		if (r == 0 && cwd) {
			const char *const b[] = { "--chdir", cwd, NULL };
			r = push_all(v, b);
		}
		const char *const e[] = { "--clearenv", "--setenv", "PATH", path, "--setenv", "HOME", home,
					  "--setenv", "LC_ALL", "C", NULL };
		if (r == 0)
			r = push_all(v, e);
		/* PWD says where the command runs, as a shell would set it: Makefiles read $(PWD) */
		if (r == 0 && cwd) {
			const char *const pw[] = { "--setenv", "PWD", cwd, NULL };
			r = push_all(v, pw);
		}
		for (size_t i = 0; r == 0 && o->env && o->env[i]; i++)
			r = push_setenv(v, o->env[i]);
		if (r == 0)
			r = kf_strv_push(v, "--");
	} else if (r == 0) {
		_cleanup_free_ char *p = kf_strdup_printf("PATH=%s", path);
		_cleanup_free_ char *hm = kf_strdup_printf("HOME=%s", home);
		_cleanup_free_ char *pw = cwd ? kf_strdup_printf("PWD=%s", cwd) : NULL;
		const char *const a[] = { "env", "-i", p, hm, "LC_ALL=C", pw, NULL };
		r = p && hm && (pw || !cwd) ? push_all(v, a) : -ENOMEM;
		if (r == 0)
			r = push_all(v, o->env);
	}
	return r < 0 ? r : push_all(v, cmd);
}

int kf_sandbox_argv(const struct kforge_sandbox *opts, const struct kf_sandbox_host *host, const char *cwd,
		    const char *const cmd[], struct kf_strv *argv)
{
	static const struct kforge_sandbox none;
	int r = sandbox_argv(opts ? opts : &none, host, cwd, cmd, argv);
	if (r < 0)
		kf_strv_free(argv);
	return r;
}

const char *kf_sandbox_blocked(const char *path, unsigned int uid, unsigned int gid, char *folder, size_t size,
			       unsigned int *mode)
{
	if (!path || path[0] != '/')
		return NULL;
	/* every folder above PATH, from / down: the user needs x on each to reach it */
	for (const char *s = path + 1; (s = strchr(s, '/')); s++) {
		if ((size_t)(s - path) >= size)
			return NULL;
		memcpy(folder, path, (size_t)(s - path));
		folder[s - path] = '\0';
		struct stat st;
		if (stat(folder, &st) < 0 || !S_ISDIR(st.st_mode))
			return NULL;
		mode_t bit = st.st_uid == uid ? S_IXUSR : st.st_gid == gid ? S_IXGRP : S_IXOTH;
		if (!(st.st_mode & bit)) {
			*mode = (unsigned int)(st.st_mode & 07777);
			return folder;
		}
	}
	return NULL;
}
