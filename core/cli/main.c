/* main.c: the kforge command: one binary, a table of subcommands over libkforge; options and help. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static bool use_color;

static void log_cli(void *data, int priority, const char *file, int line, const char *fn, const char *format,
		    va_list args)
{
	const char *label = priority <= LOG_ERR ? "error: " : priority == LOG_WARNING ? "warning: " : "";
	const char *on = "", *off = "";
	if (use_color && priority <= LOG_WARNING) {
		on = priority <= LOG_ERR ? "\033[1;31m" : "\033[1;33m";
		off = "\033[0m";
	}
	fprintf(stderr, "kforge: %s%s%s", on, label, off);
	char *msg;
	if (vasprintf(&msg, format, args) < 0) {
		fputs("(out of memory)\n", stderr);
		return;
	}
	/* messages quote file names and releases others chose: no escape sequence reaches the terminal */
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	fputc('\n', stderr);
	free(msg);
}

static const struct command commands[] = {
	{ "info", cmd_info, "info [--json]", "what kforge knows of the target kernel and system", true },
	{ "plugins", cmd_plugins, "plugins [--json]", "the plugins found, their scores and the one selected", true },
	{ "config", cmd_config, "config [--json]", "every configuration value and where it came from", true },
	{ "plan", cmd_plan, "plan MODULE|DIR [--json]", "the seven steps and the exact commands, run nothing", true },
	{ "build", cmd_build, "build MODULE|DIR...", "locate, configure, prepare and compile; install nothing", false },
	{ "install", cmd_install, "install MODULE|DIR...", "build, validate, install, depmod, refresh the initramfs", false },
	{ "uninstall", cmd_uninstall, "uninstall MODULE|--all [--force]", "remove a module kforge installed, put back what it replaced", false },
	{ "status", cmd_status, "status [--json]", "the modules kforge installed: ok, modified, missing or superseded; DKMS's beside", true },
	{ "autoinstall", cmd_autoinstall, "autoinstall -k KVER|--all-kernels", "rebuild every module kforge installed for kernel KVER, or for every kernel (the hooks call it)", false },
	{ "keygen", cmd_keygen, "keygen [--dir DIR]", "create a module signing key pair and say how to enroll it", false },
	{ "dkms", cmd_dkms, "dkms import [NAME...]", "take over what DKMS installed: build and install it with kforge (--remove)", false },
	{ "cache", cmd_cache, "cache list|prune", "what the cache keeps (downloads, git store, trees, build folders); free it", true },
	{ "log", cmd_log, "log [--last|JOB] [--json]", "the job logs kept in log.dir, or one job's log", true },
	{ "completion", cmd_completion, "completion bash|zsh", "print the shell completion script for bash or zsh", false },
};
static const size_t n_commands = ARRAY_SIZE(commands);

/*
 * The options, one table: getopt's, --help's and the completion's (cli/complete.c) lists all
 * come from it. KIND says what a value is, for the completion.
 */
static const struct optdef optdefs[] = {
	{ "root", 0, 'r', "DIR", "every path is taken inside DIR (default /)", OPT_DIR },
	{ "kernel", 'k', 'k', "KVER", "the target kernel (default: the running one)", OPT_KERNEL },
	{ "plugin", 0, 'p', "NAME", "use this plugin instead of probing", OPT_PLUGIN },
	{ "source", 0, 's', "PATH", "the kernel source: a tree or a tarball, or git+URL#tag=NAME", OPT_FILE },
	{ "source-rewrite", 0, 'R', "FROM=TO",
	  "fetch URLs starting with FROM from TO instead (repeatable;\n"
	  "before [sources] rewrite of kforge.conf; the longest FROM wins)",
	  OPT_TEXT },
	{ "set", 0, 'S', "CONFIG_X=VAL", "change a config option (repeatable; needs the full strategy)", OPT_TEXT },
	{ "strategy", 0, 't', "S", "headers, full or auto (default auto)", OPT_STRATEGY },
	{ "extra-symbols", 0, 'E', "FILE", "Module.symvers of another external module this one uses", OPT_FILE },
	{ "install-mod-path", 0, 'I', "D", "install under D/lib/modules/KVER (kbuild's INSTALL_MOD_PATH)", OPT_DIR },
	{ "install-dir", 0, 'D', "DIR", "the folder under lib/modules/KVER (default updates)", OPT_TEXT },
	{ "initramfs", 0, 'i', NULL, "refresh the initramfs even when the module is not in it", OPT_NONE },
	{ "no-wait", 0, 'W', NULL, "fail at once when another kforge holds the lock (default: wait)", OPT_NONE },
	{ "rebuild", 0, 'B', NULL,
	  "build, install, autoinstall: build even when the build cache holds\n"
	  "a build of the same sources, options and kernel",
	  OPT_NONE },
	{ "all-kernels", 0, 'K', NULL, "autoinstall: for every kernel under the root that has a build dir", OPT_NONE },
	{ "force", 0, 'F', NULL, "uninstall: remove the module even when it changed since", OPT_NONE },
	{ "dir", 0, 'd', "DIR", "keygen: where the key pair goes (default /var/lib/kforge/mok)", OPT_DIR },
	{ "all", 0, 'A', NULL,
	  "cache prune: everything, the git store included; uninstall: every\n"
	  "module kforge installed for the kernel (-k)",
	  OPT_NONE },
	{ "older-than", 0, 'O', "DAYS", "cache prune: what was not used for DAYS days", OPT_TEXT },
	{ "remove", 0, 'X', NULL, "dkms import: then remove each package imported from DKMS", OPT_NONE },
	{ "last", 0, 'L', NULL, "log: the newest job's log", OPT_NONE },
	{ "jobs", 'j', 'j', "N", "parallel make jobs", OPT_TEXT },
	{ "json", 0, 'J', NULL, "machine-readable output (info, plugins, config, plan, status, cache list, log)", OPT_NONE },
	{ "dry-run", 0, 'n', NULL, "build, dkms import: print the plan instead of running it", OPT_NONE },
	{ "verbose", 'v', 'v', NULL, "more messages (twice: command output too)", OPT_NONE },
	{ "quiet", 'q', 'q', NULL, "errors only", OPT_NONE },
	{ "help", 'h', 'h', NULL, "this help; `kforge COMMAND --help` for one command", OPT_NONE },
	{ "version", 'V', 'V', NULL, "the version", OPT_NONE },
};
static const size_t n_optdefs = ARRAY_SIZE(optdefs);

static void usage(FILE *f)
{
	fprintf(f, "Usage: kforge [OPTIONS] COMMAND [ARGS]\n\n"
		   "Builds a kernel module for an installed kernel and installs it so that the kernel loads it.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < n_commands; i++)
		if (commands[i].help)
			fprintf(f, "  %-26s %s\n", commands[i].usage, commands[i].help);
	fprintf(f, "\nOptions:\n");
	for (size_t i = 0; i < n_optdefs; i++) {
		const struct optdef *d = &optdefs[i];
		/* "-k, --kernel KVER", or "--root DIR" where there is no short name */
		char head[64];
		if (d->short_name)
			snprintf(head, sizeof(head), "-%c, --%s%s%s", d->short_name, d->name, d->metavar ? " " : "",
				 d->metavar ? d->metavar : "");
		else
			snprintf(head, sizeof(head), "--%s%s%s", d->name, d->metavar ? " " : "", d->metavar ? d->metavar : "");
		fprintf(f, strlen(head) < 21 ? "  %-20s " : "  %s  ", head);
		for (const char *p = d->help; *p; p++) {
			fputc(*p, f);
			if (*p == '\n')
				fprintf(f, "%23s", "");
		}
		fputc('\n', f);
	}
	fprintf(f, "\nExit codes:\n"
		   "  0 ok; 1 failure; 2 usage (bad command line or configuration);\n"
		   "  3 something missing on the system (build dir, source, tool); 4 build failed;\n"
		   "  5 refused by validation; 6 install failed and rolled back\n"
		   "\nFiles: %s/kforge/kforge.conf, ~/.config/kforge/kforge.conf; plugins in $KFORGE_PLUGIN_PATH,\n"
		   "%s/kforge/plugins.d, %s. See kforge(1).\n",
		SYSCONFDIR, SYSCONFDIR, PLUGINDIR);
}

static void command_usage(const struct command *c, const struct opts *o)
{
	if (c->fn == cmd_dkms) {
		dkms_usage(o);
		return;
	}
	static const struct {
		const char *name, *text;
	} extra[] = {
		{ "install", "--no-wait (fail at once when another kforge holds the lock), --rebuild (build even when\n"
			     "the build cache holds a build of the same sources, options and kernel).\n"
			     "Several modules are built at once, as many as -j N has slots (default: make's -j from\n"
			     "MAKEFLAGS, else one per CPU), their makes sharing one jobserver; installs take turns. One\n"
			     "that fails on another's symbols is tried again once the others are done; a summary names\n"
			     "each result, each has its own log. Installed at once, they wait for each other's lock\n"
			     "even with --no-wait" },
		{ "build", "--rebuild (build even when the build cache holds a build of the same sources, options\n"
			   "and kernel). Several modules are built at once, as install builds them" },
		{ "uninstall", "--install-mod-path DIR, --initramfs, --no-wait, --force (remove a module changed since),\n"
			       "--all (every module kforge installed for the kernel: the hook of a kernel's removal calls it)" },
		{ "log", "without JOB: each job log of log.dir, oldest first, with its job and result; JOB (a name as\n"
			 "listed, or a unique part of one) or --last: that log, whole. --json: the list, or the log with\n"
			 "its text" },
		{ "completion", "bash|zsh: the script to source, or to install as\n"
				"/usr/share/bash-completion/completions/kforge or a zsh fpath folder's _kforge. It completes\n"
				"commands, options, the kernels of /lib/modules (-k), plugins, and module names from the\n"
				"target kernel's modules.dep, asking `kforge completion words` each time" },
		{ "status", "--install-mod-path DIR (the records of that tree); without -k every kernel.\n"
			    "DKMS's modules (from /var/lib/dkms, read as data) follow kforge's, marked as DKMS's: state\n"
			    "installed, built, added or broken, with the package NAME/VER; in --json under \"dkms\"" },
		{ "autoinstall", "--install-mod-path DIR, --no-wait, -j N, --rebuild. Independent modules are rebuilt at\n"
				 "once, under one make jobserver of -j N slots; BUILD_DEPENDS and the modules one imports\n"
				 "symbols from come first. --all-kernels: for every kernel under the root that has a build\n"
				 "dir, the kernels at once too, all under the one jobserver; each kernel's installs take\n"
				 "turns, a summary names each kernel's result" },
		{ "keygen", "--dir DIR (default /var/lib/kforge/mok, where kforge looks first)" },
		{ "cache", "list [--json]: each download (with the name and URL it was fetched as), the git object\n"
			   "store, each source tree, each module's build folder (work) and each kept build (build: the\n"
			   "modules of a build reused when its sources, options and kernel are the same) in\n"
			   "build.cache_dir, with its size and age.\n"
			   "prune --all | --older-than DAYS [--dry-run]: removes them (--all also the git store), under\n"
			   "the cache's lock, and says what it freed; an entry another kforge is using is kept.\n"
			   "fetch URL NAME [sha256:HEX|b2:HEX] [--dry-run] [--source-rewrite FROM=TO]: fetches URL into the\n"
			   "cache as the sources of a recipe are fetched, and prints the verified file's path" },
	};
	printf("Usage: kforge %s\n\n%s.\n", c->usage, c->help);
	if (strcmp(c->name, "plan") == 0 || strcmp(c->name, "build") == 0 || strcmp(c->name, "install") == 0)
		printf("\nMODULE is a module name (btrfs), a directory of the kernel source (fs/btrfs),\n"
		       "or the path of an external module's folder (./my-driver, with a Kbuild file or Makefile).\n"
		       "Options: -k KVER, --root DIR, --plugin NAME, --source PATH, --set CONFIG_X=VAL,\n"
		       "--strategy headers|full|auto, -j N, --extra-symbols FILE, --install-mod-path DIR,\n"
		       "--install-dir DIR, --initramfs, --dry-run%s.\n",
		       c->json ? ", --json" : "");
	else
		printf("\nOptions: -k KVER, --root DIR, --plugin NAME%s (see kforge --help).\n", c->json ? ", --json" : "");
	for (size_t i = 0; i < ARRAY_SIZE(extra); i++)
		if (strcmp(c->name, extra[i].name) == 0)
			printf("Also: %s.\n", extra[i].text);
}

/* Appends a repeatable option's value; -1 (said) when there are more than LIST holds. */
static int push_arg(const char **list, unsigned int *n, size_t max, const char *value, const char *option)
{
	if (*n >= max) {
		fprintf(stderr, "kforge: error: more than %zu %s options\n", max, option);
		return -1;
	}
	list[(*n)++] = value;
	return 0;
}

/*
 * --source-rewrite FROM=TO, in order, go before the pairs of [sources] rewrite: sources.rewrite
 * set from the command line holds both (of two equal FROMs the first wins), and its origin
 * says so.
 */
static int set_source_rewrites(struct kforge_ctx *ctx, const struct opts *o)
{
	size_t len = 1;
	for (unsigned int i = 0; i < o->n_rewrites; i++)
		len += strlen(o->source_rewrites[i]) + 1;
	const char *file_value = kforge_config_get(ctx, "sources.rewrite");
	const char *file_origin = "default", *key, *origin;
	for (unsigned int i = 0; kforge_config_entry(ctx, i, &key, NULL, &origin, NULL); i++)
		if (strcmp(key, "sources.rewrite") == 0)
			file_origin = origin;
	len += strlen(file_value) + 1;
	char *value = malloc(len);
	if (!value)
		return -1;
	value[0] = '\0';
	for (unsigned int i = 0; i < o->n_rewrites; i++) {
		const char *arg = o->source_rewrites[i];
		const char *eq = strchr(arg, '=');
		if (!eq || eq == arg || !eq[1] || strpbrk(arg, " \t\r\n")) {
			kforge_err(ctx, "--source-rewrite %s: give FROM=TO, two URL prefixes without blanks "
					"(e.g. --source-rewrite https://cdn.kernel.org/=http://mirror.example/kernel.org/)",
				   arg);
			free(value);
			return -1;
		}
		size_t at = strlen(value);
		snprintf(value + at, len - at, "%s%.*s %s", at ? " " : "", (int)(eq - arg), arg, eq + 1);
	}
	if (file_value[0]) {
		size_t at = strlen(value);
		snprintf(value + at, len - at, " %s", file_value);
	}
	char *why = file_value[0] ? NULL : strdup("command line: --source-rewrite");
	if (file_value[0] && asprintf(&why, "command line: --source-rewrite, before the pairs of %s", file_origin) < 0)
		why = NULL;
	int r = why ? kforge_config_set(ctx, "sources.rewrite", value, why) : -1;
	free(why);
	free(value);
	return r < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	/* the completion: answered before anything is parsed or read (no configuration needed, no
	 * limit on the words a long command line has) */
	if (argc >= 4 && strcmp(argv[1], "completion") == 0 && strcmp(argv[2], "words") == 0 && strcmp(argv[3], "--") == 0)
	{
		const struct cli_tables t = { commands, n_commands, optdefs, n_optdefs };
		return cli_complete_words(&t, argc - 4, argv + 4);
	}
	if (argc == 3 && strcmp(argv[1], "completion") == 0 && cli_completion_script(argv[2]) == 0)
		return 0;
	struct option longopts[ARRAY_SIZE(optdefs) + 1];
	for (size_t i = 0; i < n_optdefs; i++)
		longopts[i] = (struct option){ optdefs[i].name, optdefs[i].metavar ? required_argument : no_argument, NULL,
					       optdefs[i].val };
	longopts[n_optdefs] = (struct option){ NULL, 0, NULL, 0 };
	struct opts o = { 0 };
	const char *cmdname = NULL;
	int c;
	opterr = 0;
	/* the short options, from the table: "-" (arguments in order), then each letter, ':' for a value */
	char shortopts[2 * ARRAY_SIZE(optdefs) + 2] = "-", with_value[ARRAY_SIZE(optdefs) + 1] = "";
	for (size_t i = 0, at = 1, nv = 0; i < n_optdefs; i++)
		if (optdefs[i].short_name) {
			shortopts[at++] = optdefs[i].short_name;
			if (optdefs[i].metavar) {
				shortopts[at++] = ':';
				with_value[nv++] = optdefs[i].short_name;
			}
		}
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 1:
			if (!cmdname)
				cmdname = optarg;
			else if (o.n_args < ARRAY_SIZE(o.args))
				o.args[o.n_args++] = optarg;
			else {
				fprintf(stderr, "kforge: error: too many arguments\n");
				return KFORGE_EXIT_USAGE;
			}
			break;
		case 'r': o.root = optarg; break;
		case 'k': o.kernel = optarg; break;
		case 'p': o.plugin = optarg; break;
		case 's': o.source = optarg; break;
		case 't': o.strategy = optarg; break;
		case 'j': o.jobs = optarg; break;
		case 'J': o.json = true; break;
		case 'n': o.dry_run = true; break;
		case 'W': o.no_wait = true; break;
		case 'F': o.force = true; break;
		case 'B': o.rebuild = true; break;
		case 'K': o.all_kernels = true; break;
		case 'd': o.dir = optarg; break;
		case 'A': o.all = true; break;
		case 'L': o.last = true; break;
		case 'X': o.remove = true; break;
		case 'O': o.older_than = optarg; break;
		case 'R':
			if (push_arg(o.source_rewrites, &o.n_rewrites, ARRAY_SIZE(o.source_rewrites), optarg, "--source-rewrite") < 0)
				return KFORGE_EXIT_USAGE;
			break;
		case 'I': o.install_mod_path = optarg; break;
		case 'D': o.install_dir = optarg; break;
		case 'i': o.initramfs = true; break;
		case 'E':
			if (push_arg(o.extra_symbols, &o.n_extra, ARRAY_SIZE(o.extra_symbols), optarg, "--extra-symbols") < 0)
				return KFORGE_EXIT_USAGE;
			break;
		case 'v': o.verbose++; break;
		case 'q': o.quiet++; break;
		case 'h': o.help = true; break;
		case 'V': printf("kforge %s (plugin ABI %d.%d)\n", KFORGE_VERSION, KFORGE_PLUGIN_ABI_MAJOR,
				 KFORGE_PLUGIN_ABI_MINOR);
			return 0;
		case 'S':
			if (push_arg(o.changes, &o.n_changes, ARRAY_SIZE(o.changes), optarg, "--set") < 0)
				return KFORGE_EXIT_USAGE;
			break;
		default:
			if (optopt)
				fprintf(stderr, "kforge: error: option -%c %s (see kforge --help)\n", optopt,
					strchr(with_value, optopt) ? "needs a value" : "is unknown");
			else
				fprintf(stderr, "kforge: error: option %s is unknown or needs a value (see kforge --help)\n",
					argv[optind - 1]);
			return KFORGE_EXIT_USAGE;
		}
	}
	/* after "--", every word is an argument (kforge completion words -- WORDS...) */
	for (; optind < argc; optind++) {
		if (!cmdname) {
			cmdname = argv[optind];
		} else if (o.n_args < ARRAY_SIZE(o.args)) {
			o.args[o.n_args++] = argv[optind];
		} else {
			fprintf(stderr, "kforge: error: too many arguments\n");
			return KFORGE_EXIT_USAGE;
		}
	}
	if (strcmp(cmdname ? cmdname : "", "help") == 0) {
		cmdname = o.n_args ? o.args[0] : NULL;
		o.help = true;
		o.n_args = 0;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; cmdname && i < n_commands; i++)
		if (strcmp(commands[i].name, cmdname) == 0)
			cmd = &commands[i];
	if (!cmdname) {
		usage(o.help ? stdout : stderr);
		return o.help ? 0 : KFORGE_EXIT_USAGE;
	}
	if (!cmd) {
		fprintf(stderr, "kforge: error: unknown command \"%s\" (see kforge --help)\n", cmdname);
		return KFORGE_EXIT_USAGE;
	}
	if (o.help) {
		command_usage(cmd, &o);
		return 0;
	}
	if (o.json && !cmd->json) {
		fprintf(stderr, "kforge: error: %s has no --json output\n", cmd->name);
		return KFORGE_EXIT_USAGE;
	}

	struct kforge_ctx *ctx;
	int r = kforge_ctx_new(o.root, &ctx);
	if (r < 0) {
		fprintf(stderr, "kforge: error: %s\n", strerror(-r));
		return KFORGE_EXIT_FAILURE;
	}
	kforge_set_log_fn(ctx, log_cli, NULL);
	int code = KFORGE_EXIT_OK;
	if (kforge_config_load(ctx, NULL, NULL) < 0) {
		code = KFORGE_EXIT_USAGE;
		goto out;
	}
	const char *color = kforge_config_get(ctx, "log.color");
	use_color = !getenv("NO_COLOR") &&
		    (strcmp(color, "always") == 0 || (strcmp(color, "auto") == 0 && isatty(STDERR_FILENO)));
	if (o.root) {
		struct stat st;
		const char *why = stat(kforge_ctx_root(ctx), &st) < 0 ? strerror(errno)
				  : !S_ISDIR(st.st_mode)		 ? "not a directory"
									 : NULL;
		if (why) {
			kforge_err(ctx, "--root %s: %s: give the folder that holds the target system (its /etc and "
					"/lib/modules), as a chroot would see it",
				   o.root, why);
			code = KFORGE_EXIT_USAGE;
			goto out;
		}
	}
	/* options that are also settings: the command line is their last origin */
	const struct {
		const char *value, *key, *origin;
	} settings[] = {
		{ o.jobs, "build.jobs", "command line: -j" },
		{ o.strategy, "build.strategy", "command line: --strategy" },
		{ o.plugin, "plugins.plugin", "command line: --plugin" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		if (settings[i].value && kforge_config_set(ctx, settings[i].key, settings[i].value, settings[i].origin) < 0) {
			code = KFORGE_EXIT_USAGE;
			goto out;
		}
	}
	if (o.n_rewrites && set_source_rewrites(ctx, &o) < 0) {
		code = KFORGE_EXIT_USAGE;
		goto out;
	}
	if (o.verbose || o.quiet) {
		const char *lvl = kforge_log_priority_name(LOG_INFO + o.verbose - 2 * o.quiet);
		kforge_config_set(ctx, "log.level", lvl, o.verbose ? "command line: -v" : "command line: -q");
	}
	code = cmd->fn(ctx, &o);
out:
	kforge_ctx_unref(ctx);
	return code;
}

