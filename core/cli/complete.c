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

#include "base/base.h" /* the cleanup attributes only: the command uses the public API */
#include "cli/cli.h"

static const char bash_script[] =
	"# bash completion for kforge, printed by `kforge completion bash`: the words typed so far go\n"
	"# to `kforge completion words`, which answers from kforge's own command and option tables.\n"
	"_kforge()\n"
	"{\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} line\n"
	"\tlocal -a out\n"
	"\tmapfile -t out < <(\"${COMP_WORDS[0]}\" completion words -- \"${COMP_WORDS[@]:0:COMP_CWORD+1}\" 2>/dev/null)\n"
	"\tCOMPREPLY=()\n"
	"\tfor line in \"${out[@]}\"; do\n"
	"\t\tcase $line in\n"
	"\t\t:dirs) compopt -o filenames 2>/dev/null; mapfile -t -O \"${#COMPREPLY[@]}\" COMPREPLY < <(compgen -d -- \"$cur\") ;;\n"
	"\t\t:files) compopt -o filenames 2>/dev/null; mapfile -t -O \"${#COMPREPLY[@]}\" COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
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
	"\t(( ${#cands} )) && compadd -- \"${cands[@]}\"\n"
	"\treturn 0\n"
	"}\n"
	"if [ \"${funcstack[1]}\" = _kforge ]; then\n"
	"\t_kforge \"$@\"\n"
	"else\n"
	"\tcompdef _kforge kforge\n"
	"fi\n";

/* main.c's tables: the commands and the options */
static const struct command *commands;
static size_t n_commands;
static const struct optdef *optdefs;
static size_t n_optdefs;

/* what the candidates are written with: "--kernel=" where the shell completes that whole word */
static const char *say_prefix = "";

static void say(const char *cand, const char *cur)
{
	if (strncmp(cand, cur, strlen(cur)) == 0 && !strchr(cand, '\n'))
		printf("%s%s\n", say_prefix, cand);
}

/* the long option NAME (up to '='), or the only one it abbreviates, as getopt_long takes it */
static const struct optdef *find_long(const char *word)
{
	size_t len = strcspn(word, "=");
	const struct optdef *only = NULL;
	size_t matches = 0;
	for (size_t i = 0; i < n_optdefs; i++) {
		if (strncmp(optdefs[i].name, word, len) != 0)
			continue;
		if (strlen(optdefs[i].name) == len)
			return &optdefs[i];
		only = &optdefs[i];
		matches++;
	}
	return matches == 1 ? only : NULL;
}

static const struct optdef *find_short(char c)
{
	for (size_t i = 0; c && i < n_optdefs; i++)
		if (optdefs[i].short_name == c)
			return &optdefs[i];
	return NULL;
}

/* the folders of ROOT/lib/modules: the installed kernels */
static void say_kernels(const char *root, const char *cur)
{
	_cleanup_free_ char *dir = NULL;
	DIR *d = kforge_path_resolve(root, "/lib/modules", &dir) == 0 ? opendir(dir) : NULL;
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
	_cleanup_free_ char *rel = kforge_path_join("/lib/modules", kernel, "modules.dep", NULL);
	_cleanup_free_ char *dep = NULL;
	FILE *f = rel && !strstr(kernel, "..") && kforge_path_resolve(root, rel, &dep) == 0 ? fopen(dep, "re") : NULL;
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

/* the modules kforge recorded for KERNEL (uninstall's arguments): the names of the record files,
 * read without the state's lock (a TAB never waits for another kforge, nor repairs anything) */
static void say_recorded(const char *root, const char *kernel, const char *cur)
{
	_cleanup_free_ char *rel = kforge_path_join("/var/lib/kforge/records", kernel, NULL);
	_cleanup_free_ char *dir = NULL;
	DIR *d = rel && !strstr(kernel, "..") && kforge_path_resolve(root, rel, &dir) == 0 ? opendir(dir) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		e->d_name[len - 5] = '\0';
		say(e->d_name, cur);
	}
	if (d)
		closedir(d);
}

/* the job logs of log.dir under the root, by name */
static void say_logs(struct kforge_ctx *ctx, const char *cur)
{
	_cleanup_free_ char *dir = NULL;
	DIR *d = kforge_path_resolve(kforge_ctx_root(ctx), kforge_config_get(ctx, "log.dir"), &dir) == 0 ? opendir(dir) : NULL;
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

static void quiet_log(void *data, int priority, const char *file, int line, const char *fn, const char *format,
		      va_list args)
{
}

/*
 * WORDS: the command line so far, the program's name first, the word being completed last, as
 * the shell split it: bash splits "--kernel=6.1" into "--kernel", "=", "6.1"; zsh does not.
 */
int cli_complete_words(const struct cli_tables *t, int n, char **words)
{
	commands = t->commands;
	n_commands = t->n_commands;
	optdefs = t->optdefs;
	n_optdefs = t->n_optdefs;
	if (n < 2)
		return 0;
	const char *cur = words[n - 1];
	const char *root = "/", *kernel = NULL, *cmd = NULL;
	const struct optdef *pending = NULL; /* the option whose value CUR is */
	size_t positional = 0;
	bool ended = false; /* after "--": arguments only */
	for (int i = 1; i + 1 < n; i++) {
		const char *w = words[i];
		const struct optdef *d = NULL;
		const char *value = NULL;
		if (pending) {
			/* bash's "=" between an option and its value */
			if (strcmp(w, "=") == 0 && i + 2 < n) {
				value = words[++i];
			} else if (strcmp(w, "=") == 0) {
				continue;
			} else {
				value = w;
			}
			d = pending;
			pending = NULL;
		} else if (ended || w[0] != '-' || !w[1]) {
			if (!cmd)
				cmd = w;
			else
				positional++;
			continue;
		} else if (strcmp(w, "--") == 0) {
			ended = true;
			continue;
		} else if (w[1] == '-') {
			d = find_long(w + 2);
			if (d && d->metavar && strchr(w, '='))
				value = strchr(w, '=') + 1;
			else if (d && d->metavar)
				pending = d;
		} else {
			/* -vk KVER, -k6.1: a bundle of short options, the last one's value after it */
			for (const char *c = w + 1; *c; c++) {
				d = find_short(*c);
				if (d && d->metavar) {
					if (c[1])
						value = c + 1;
					else
						pending = d;
					break;
				}
			}
		}
		if (d && value && d->val == 'r')
			root = value;
		if (d && value && d->val == 'k')
			kernel = value;
	}
	/* the word being completed: a value after bash's "=", or zsh's whole "--name=value" */
	if (pending && strcmp(cur, "=") == 0) {
		say_prefix = "=";
		cur = "";
	} else if (!pending && strncmp(cur, "--", 2) == 0 && strchr(cur, '=') && !ended) {
		const struct optdef *d = find_long(cur + 2);
		if (d && d->metavar) {
			static char prefix[80];
			snprintf(prefix, sizeof(prefix), "--%s=", d->name);
			say_prefix = prefix;
			pending = d;
			cur = strchr(cur, '=') + 1;
		}
	}
	/* the target: -k, else the running kernel; the root: --root, its configuration read quietly */
	struct utsname u;
	if (!kernel && uname(&u) == 0)
		kernel = u.release;
	struct kforge_ctx *ctx = NULL;
	if (kforge_ctx_new(strcmp(root, "/") ? root : NULL, &ctx) < 0)
		return 0;
	kforge_set_log_fn(ctx, quiet_log, NULL);
	kforge_config_load(ctx, NULL, NULL);
	if (pending) {
		say_value(ctx, pending, root, cur);
	} else if (cur[0] == '-' && !ended) {
		for (size_t i = 0; i < n_optdefs; i++) {
			char opt[64];
			snprintf(opt, sizeof(opt), "--%s", optdefs[i].name);
			say(opt, cur);
		}
	} else if (!cmd) {
		for (size_t i = 0; i < n_commands; i++)
			say(commands[i].name, cur);
		say("help", cur);
	} else if (strcmp(cmd, "install") == 0 || strcmp(cmd, "build") == 0 || strcmp(cmd, "plan") == 0) {
		say_modules(root, kernel, cur);
		puts(":dirs");
	} else if (strcmp(cmd, "uninstall") == 0) {
		say_recorded(root, kernel, cur);
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
	kforge_ctx_unref(ctx);
	return 0;
}

/* The script for SHELL (bash, zsh) on stdout: 0, or -1 for a shell there is none for. */
int cli_completion_script(const char *shell)
{
	if (strcmp(shell, "bash") == 0)
		fputs(bash_script, stdout);
	else if (strcmp(shell, "zsh") == 0)
		fputs(zsh_script, stdout);
	else
		return -1;
	return 0;
}

int cmd_completion(struct kforge_ctx *ctx, struct opts *o)
{
	/* `completion bash|zsh` and `completion words -- ...` are answered before this (main.c) */
	if (o->n_args == 1 && cli_completion_script(o->args[0]) == 0)
		return 0;
	if (o->n_args > 1)
		kforge_err(ctx, "completion takes one word, the shell (bash or zsh), not %u", o->n_args);
	else
		kforge_err(ctx, "completion needs the shell: `kforge completion bash` or `kforge completion zsh` (e.g. "
				"`kforge completion bash > /etc/bash_completion.d/kforge`)%s%s",
			   o->n_args ? "; not " : "", o->n_args ? o->args[0] : "");
	return KFORGE_EXIT_USAGE;
}
