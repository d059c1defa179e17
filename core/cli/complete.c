/*
 * complete.c: shell completion. `kforge completion bash|zsh` prints a script for the shell; the
 * script hands the words typed so far back to `kforge completion words -- WORDS...`, which answers
 * from the same tables that getopt and --help use (the commands and optdefs of main.c), so the
 * completion cannot drift from the command line it completes. Its answers, one per line: the
 * candidates that start with the word being completed, and ":dirs" or ":files" where the shell's
 * own file name completion applies.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <kforge/path.h>
#include <kforge/records.h>

#include "base/base.h" /* the cleanup attributes only: the command uses the public API */
#include "cli/cli.h"

static const char bash_script[] =
	"# bash completion for kforge, printed by `kforge completion bash`: the words typed so far go\n"
	"# to `kforge completion words`, which answers from kforge's own command and option tables.\n"
	"_kforge()\n"
	"{\n"
	"\tlocal IFS=$'\\n' cur=${COMP_WORDS[COMP_CWORD]} line\n"
	"\tlocal -a out\n"
	"\tout=($(\"${COMP_WORDS[0]}\" completion words -- \"${COMP_WORDS[@]:0:COMP_CWORD+1}\" 2>/dev/null))\n"
	"\tCOMPREPLY=()\n"
	"\tfor line in \"${out[@]}\"; do\n"
	"\t\tcase $line in\n"
	"\t\t:dirs) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -d -- \"$cur\")) ;;\n"
	"\t\t:files) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- \"$cur\")) ;;\n"
	"\t\t*) COMPREPLY+=(\"$line\") ;;\n"
	"\t\tesac\n"
	"\tdone\n"
	"}\n"
	"complete -F _kforge kforge\n";

static const char zsh_script[] =
	"#compdef kforge\n"
	"# zsh completion for kforge, printed by `kforge completion zsh`: the words typed so far go to\n"
	"# `kforge completion words`, which answers from kforge's own command and option tables.\n"
	"_kforge() {\n"
	"\tlocal line\n"
	"\tlocal -a out cands\n"
	"\tout=(\"${(@f)$(\"${words[1]}\" completion words -- \"${(@)words[1,CURRENT]}\" 2>/dev/null)}\")\n"
	"\tfor line in \"${out[@]}\"; do\n"
	"\t\tcase $line in\n"
	"\t\t:dirs) _files -/ ;;\n"
	"\t\t:files) _files ;;\n"
	"\t\t'') ;;\n"
	"\t\t*) cands+=(\"$line\") ;;\n"
	"\t\tesac\n"
	"\tdone\n"
	"\t(( ${#cands} )) && compadd -Q -- \"${cands[@]}\"\n"
	"\treturn 0\n"
	"}\n"
	"if [ \"${funcstack[1]}\" = _kforge ]; then\n"
	"\t_kforge \"$@\"\n"
	"else\n"
	"\tcompdef _kforge kforge\n"
	"fi\n";

static void say(const char *cand, const char *cur)
{
	if (strncmp(cand, cur, strlen(cur)) == 0 && !strchr(cand, '\n'))
		puts(cand);
}

static const struct optdef *find_long(const char *word)
{
	size_t len = strcspn(word, "=");
	for (size_t i = 0; i < n_optdefs; i++)
		if (strlen(optdefs[i].name) == len && strncmp(optdefs[i].name, word, len) == 0)
			return &optdefs[i];
	return NULL;
}

static const struct optdef *find_short(char c)
{
	for (size_t i = 0; c && i < n_optdefs; i++)
		if (optdefs[i].short_name == c)
			return &optdefs[i];
	return NULL;
}

/* the directories of ROOT/lib/modules: the installed kernels */
static void say_kernels(const char *root, const char *cur)
{
	_cleanup_free_ char *dir = kforge_path_join(root, "lib/modules", NULL);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode))
			say(e->d_name, cur);
	}
	if (d)
		closedir(d);
}

/* the modules of KERNEL's modules.dep under ROOT: each file's name without .ko and compression */
static void say_modules(const char *root, const char *kernel, const char *cur)
{
	_cleanup_free_ char *dep = kforge_path_join(root, "lib/modules", kernel, "modules.dep", NULL);
	FILE *f = dep ? fopen(dep, "re") : NULL;
	char *line = NULL;
	size_t n = 0;
	while (f && getline(&line, &n, f) > 0) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *name = strrchr(line, '/');
		name = name ? name + 1 : line;
		char *ko = strstr(name, ".ko");
		if (ko) {
			*ko = '\0';
			say(name, cur);
		}
	}
	free(line);
	if (f)
		fclose(f);
}

/* the modules kforge recorded for KERNEL (uninstall's arguments) */
static void say_recorded(struct kforge_ctx *ctx, struct opts *o, const char *kernel, const char *cur)
{
	struct kforge_job *job = NULL;
	struct kforge_record **recs = NULL;
	size_t n = 0;
	if (make_job_for(ctx, o, NULL, false, true, &job) == 0 && kforge_records_list(job, kernel, &recs, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			say(recs[i]->module, cur);
		kforge_records_free(recs, n);
	}
	kforge_job_unref(job);
}

/* the job logs of log.dir under the root, by name */
static void say_logs(struct kforge_ctx *ctx, const char *cur)
{
	_cleanup_free_ char *dir = kforge_path_join(kforge_ctx_root(ctx), kforge_config_get(ctx, "log.dir"), NULL);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && strstr(e->d_name, ".log"))
			say(e->d_name, cur);
	if (d)
		closedir(d);
}

static void say_value(struct kforge_ctx *ctx, const struct optdef *d, const char *root, const char *cur)
{
	switch (d->kind) {
	case OPT_KERNEL: say_kernels(root, cur); break;
	case OPT_DIR: puts(":dirs"); break;
	case OPT_FILE: puts(":files"); break;
	case OPT_STRATEGY:
		say("auto", cur);
		say("headers", cur);
		say("full", cur);
		break;
	case OPT_PLUGIN:
		if (kforge_plugins_load(ctx) >= 0)
			for (unsigned int i = 0; i < kforge_plugins_count(ctx); i++)
				say(kforge_plugins_get(ctx, i)->name, cur);
		break;
	case OPT_NONE:
	case OPT_TEXT: break;
	}
}

static int complete_for(struct kforge_ctx *ctx, struct opts *o, const char *cmd, size_t positional,
			const struct optdef *pending, const char *root, const char *kernel, const char *cur);

/* WORDS: the command line so far, the program's name first, the word being completed last */
static int complete_words(struct kforge_ctx *ctx, struct opts *o, const char **words, size_t n)
{
	if (n < 2)
		return 0;
	const char *cur = words[n - 1];
	const char *root = "/", *kernel = NULL, *cmd = NULL;
	const struct optdef *pending = NULL; /* the option whose value CUR is */
	size_t positional = 0;
	for (size_t i = 1; i + 1 < n; i++) {
		const char *w = words[i];
		const struct optdef *d = NULL;
		const char *value = NULL;
		if (pending) {
			d = pending;
			value = w;
			pending = NULL;
		} else if (strcmp(w, "--") == 0) {
			continue;
		} else if (strncmp(w, "--", 2) == 0) {
			d = find_long(w + 2);
			if (d && d->metavar && !strchr(w, '='))
				pending = d;
			else if (d && strchr(w, '='))
				value = strchr(w, '=') + 1;
			if (pending)
				continue;
		} else if (w[0] == '-' && w[1]) {
			d = find_short(w[1]);
			if (d && d->metavar && !w[2])
				pending = d;
			else if (d && d->metavar)
				value = w + 2;
			if (pending)
				continue;
		} else if (!cmd) {
			cmd = w;
			continue;
		} else {
			positional++;
			continue;
		}
		if (d && value && d->val == 'r')
			root = value;
		if (d && value && d->val == 'k')
			kernel = value;
	}
	/* the target: -k, else the running kernel; the root: --root */
	struct utsname u;
	if (!kernel && uname(&u) == 0)
		kernel = u.release;
	o->kernel = kernel;
	/* a --root typed on the line: its configuration, records and logs */
	struct kforge_ctx *sub = NULL;
	if (strcmp(root, "/") != 0 && kforge_ctx_new(root, &sub) == 0) {
		kforge_set_log_fn(sub, NULL, NULL);
		if (kforge_config_load(sub, NULL, NULL) == 0)
			ctx = sub;
	}
	int r = complete_for(ctx, o, cmd, positional, pending, root, kernel, cur);
	kforge_ctx_unref(sub);
	return r;
}

static int complete_for(struct kforge_ctx *ctx, struct opts *o, const char *cmd, size_t positional,
			const struct optdef *pending, const char *root, const char *kernel, const char *cur)
{
	if (pending) {
		say_value(ctx, pending, root, cur);
		return 0;
	}
	if (cur[0] == '-') {
		for (size_t i = 0; i < n_optdefs; i++) {
			char opt[64];
			snprintf(opt, sizeof(opt), "--%s", optdefs[i].name);
			say(opt, cur);
		}
		return 0;
	}
	if (!cmd) {
		for (size_t i = 0; i < n_commands; i++)
			say(commands[i].name, cur);
		say("help", cur);
		return 0;
	}
	if (strcmp(cmd, "install") == 0 || strcmp(cmd, "build") == 0 || strcmp(cmd, "plan") == 0) {
		say_modules(root, kernel, cur);
		puts(":dirs");
	} else if (strcmp(cmd, "uninstall") == 0) {
		say_recorded(ctx, o, kernel, cur);
	} else if (strcmp(cmd, "help") == 0 && positional == 0) {
		for (size_t i = 0; i < n_commands; i++)
			say(commands[i].name, cur);
	} else if (strcmp(cmd, "cache") == 0 && positional == 0) {
		say("list", cur);
		say("prune", cur);
		say("fetch", cur);
	} else if (strcmp(cmd, "dkms") == 0 && positional == 0) {
		say("import", cur);
	} else if (strcmp(cmd, "completion") == 0 && positional == 0) {
		say("bash", cur);
		say("zsh", cur);
	} else if (strcmp(cmd, "log") == 0 && positional == 0) {
		say_logs(ctx, cur);
	}
	return 0;
}

int cmd_completion(struct kforge_ctx *ctx, struct opts *o)
{
	const char *what = o->n_args ? o->args[0] : "";
	if (strcmp(what, "words") == 0)
		return complete_words(ctx, o, o->args + 1, o->n_args - 1);
	if (o->n_args == 1 && strcmp(what, "bash") == 0) {
		fputs(bash_script, stdout);
		return 0;
	}
	if (o->n_args == 1 && strcmp(what, "zsh") == 0) {
		fputs(zsh_script, stdout);
		return 0;
	}
	kforge_err(ctx, "completion needs the shell: `kforge completion bash` or `kforge completion zsh` (e.g. "
			"`kforge completion bash > /etc/bash_completion.d/kforge`)");
	return KFORGE_EXIT_USAGE;
}
