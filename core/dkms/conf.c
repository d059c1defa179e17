/*
 * conf.c: a DKMS package's dkms.conf, evaluated by bash as DKMS 3.4 evaluates it, in a child run
 * as the build user without network (kforge_run_sandboxed), and read back as data.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dkms/dkms.h"
#include "pipeline/job.h"

/*
 * The variables DKMS reads back from a dkms.conf (dkms.in:87-100, dkms_conf_variables), less
 * its own lowercase ones (built_module_name, patch_array...: it overwrites them) and the
 * MODULES_CONF* group (deprecated; nothing acts on it). The order is DKMS's: the second
 * expansion sees the earlier ones already set.
 */
enum dkms_var {
	V_PACKAGE_NAME,
	V_PACKAGE_VERSION,
	V_POST_ADD,
	V_POST_BUILD,
	V_POST_INSTALL,
	V_POST_REMOVE,
	V_PRE_BUILD,
	V_PRE_INSTALL,
	V_BUILD_DEPENDS,
	V_BUILD_EXCLUSIVE_ARCH,
	V_BUILD_EXCLUSIVE_CONFIG,
	V_BUILD_EXCLUSIVE_KERNEL,
	V_BUILD_EXCLUSIVE_KERNEL_MIN,
	V_BUILD_EXCLUSIVE_KERNEL_MAX,
	V_MAKE,
	V_MAKE_MATCH,
	V_PATCH,
	V_PATCH_MATCH,
	V_BUILT_MODULE_NAME,
	V_BUILT_MODULE_LOCATION,
	V_DEST_MODULE_NAME,
	V_DEST_MODULE_LOCATION,
	V_STRIP,
	V_AUTOINSTALL,
	V_NO_WEAK_MODULES,
	V_BUILD_DEPENDS_REBUILD,
	V_OBSOLETE_BY,
	V_CLEAN,
	V_REMAKE_INITRD,
	N_VARS
};
static const char *const var_names[N_VARS] = {
	"PACKAGE_NAME", "PACKAGE_VERSION", "POST_ADD", "POST_BUILD", "POST_INSTALL", "POST_REMOVE", "PRE_BUILD",
	"PRE_INSTALL", "BUILD_DEPENDS", "BUILD_EXCLUSIVE_ARCH", "BUILD_EXCLUSIVE_CONFIG", "BUILD_EXCLUSIVE_KERNEL",
	"BUILD_EXCLUSIVE_KERNEL_MIN", "BUILD_EXCLUSIVE_KERNEL_MAX", "MAKE", "MAKE_MATCH", "PATCH", "PATCH_MATCH",
	"BUILT_MODULE_NAME", "BUILT_MODULE_LOCATION", "DEST_MODULE_NAME", "DEST_MODULE_LOCATION", "STRIP",
	"AUTOINSTALL", "NO_WEAK_MODULES", "BUILD_DEPENDS_REBUILD", "OBSOLETE_BY", "CLEAN", "REMAKE_INITRD",
};

/* an index past this is refused: no package has that many records, and v[] is allocated up to it */
#define DKMS_MAX_INDEX 4096

/*
 * The driver, written beside nothing of the package's (a folder of its own under /tmp) and run
 * as `bash DRIVER CONF kernelver arch kernel_source_dir kernel_config dkms_tree source_tree
 * install_tree module module_version`. It is DKMS's safe_source (dkms.in:540-578), kept as close
 * as bash allows:
 * - DKMS's variables are plain shell variables, not exported (a command the conf runs does not
 *   see them), and every name DKMS reads back is unset first (dkms.in:630-633). Then, as the
 *   issue asks, PACKAGE_NAME and PACKAGE_VERSION are preset to NAME/VER when they are known
 *   (DKMS leaves them unset; a conf that sets its own wins; a first read from a path leaves them
 *   unset, so a conf without them is still refused as DKMS refuses it), and installed_modules_dir
 *   names the folder kforge installs into (/lib/modules/KVER/updates; DKMS has no such variable,
 *   install_tree is its closest and is set too).
 * - the conf is sourced in a subshell (`. CONF`, so BASH_SOURCE is its path) with its stdout
 *   discarded, no set -e or -u, extglob on; that subshell prints NAME[i]="value" for every
 *   element, one trailing CR stripped; the outer shell evals those lines: the second expansion
 *   (note §1.3), here as the build user, never in kforge.
 * - then it prints every element on fd 3 (the captured stdout) as "NAME INDEX BYTES\nVALUE\n".
 *   A value cannot hold a NUL byte in bash, but the runner hands the capture back as a C
 *   string, so the records carry a byte count instead of NUL separators; LC_ALL=C makes ${#v}
 *   count bytes. What the conf prints (the second stage's echo included) goes to the log.
 * DKMS's DKMS_DIRECTIVE* and /etc/dkms/NAME*.conf overrides are not read (kforge has neither yet).
 */
const char kf_dkms_driver[] =
	"shopt -s extglob\n"
	"_kf_conf=$1 kernelver=$2 arch=$3 kernel_source_dir=$4 kernel_config=$5 dkms_tree=$6 source_tree=$7\n"
	"install_tree=$8 module=$9 module_version=${10} installed_modules_dir=${11}\n"
	"_kf_vars='PACKAGE_NAME PACKAGE_VERSION POST_ADD POST_BUILD POST_INSTALL POST_REMOVE PRE_BUILD\n"
	"  PRE_INSTALL BUILD_DEPENDS BUILD_EXCLUSIVE_ARCH BUILD_EXCLUSIVE_CONFIG BUILD_EXCLUSIVE_KERNEL\n"
	"  BUILD_EXCLUSIVE_KERNEL_MIN BUILD_EXCLUSIVE_KERNEL_MAX MAKE MAKE_MATCH PATCH PATCH_MATCH\n"
	"  BUILT_MODULE_NAME BUILT_MODULE_LOCATION DEST_MODULE_NAME DEST_MODULE_LOCATION STRIP AUTOINSTALL\n"
	"  NO_WEAK_MODULES BUILD_DEPENDS_REBUILD OBSOLETE_BY CLEAN REMAKE_INITRD'\n"
	"for _kf_v in $_kf_vars; do unset \"$_kf_v\"; done\n"
	"[[ $module ]] && PACKAGE_NAME=$module\n"
	"[[ $module_version ]] && PACKAGE_VERSION=$module_version\n"
	"set --\n"
	"CR=$'\\r'\n"
	"exec 3>&1 1>&2\n"
	"_kf_lines=$(exec 3>&-\n"
	"\t. \"$_kf_conf\" >/dev/null\n"
	"\tfor _export_env in $_kf_vars; do\n"
	"\t\tfor _i in $(eval echo \\${!\"${_export_env}\"[@]}); do\n"
	"\t\t\teval echo '$_export_env[$_i]=\\\"${'\"${_export_env}\"'[$_i]%$CR}\\\"'\n"
	"\t\tdone\n"
	"\tdone)\n"
	"eval \"$_kf_lines\"\n"
	"LC_ALL=C\n"
	"for _kf_n in $_kf_vars; do\n"
	"\tdeclare -n _kf_a=$_kf_n\n"
	"\tfor _kf_i in \"${!_kf_a[@]}\"; do\n"
	"\t\t_kf_val=${_kf_a[$_kf_i]}\n"
	"\t\tprintf '%s %s %s\\n%s\\n' \"$_kf_n\" \"$_kf_i\" \"${#_kf_val}\" \"$_kf_val\" >&3\n"
	"\tdone\n"
	"\tunset -n _kf_a\n"
	"done\n"
	"printf 'END\\n' >&3\n";

const char *kf_dkms_array_get(const struct kf_dkms_array *a, size_t i)
{
	return a && i < a->len ? a->v[i] : NULL;
}

/* bash's [[ $x ]]: set and not empty */
static const char *nz(const struct kf_dkms_array *a, size_t i)
{
	const char *s = kf_dkms_array_get(a, i);
	return s && s[0] ? s : NULL;
}

static void array_free(struct kf_dkms_array *a)
{
	for (size_t i = 0; i < a->len; i++)
		free(a->v[i]);
	free(a->v);
	*a = (struct kf_dkms_array){ 0 };
}

static int array_set(struct kf_dkms_array *a, size_t i, const char *s, size_t n)
{
	if (i >= a->len) {
		char **v = realloc(a->v, (i + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + a->len, 0, (i + 1 - a->len) * sizeof(*v));
		a->v = v;
		a->len = i + 1;
	}
	char *copy = strndup(s, n);
	if (!copy)
		return -ENOMEM;
	if (a->v[i])
		free(a->v[i]);
	else
		a->count++;
	a->v[i] = copy;
	return 0;
}

void kf_dkms_conf_free(struct kf_dkms_conf *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->package_name);
	free(c->package_version);
	array_free(&c->make);
	array_free(&c->make_match);
	free(c->clean);
	for (size_t i = 0; i < c->n_modules; i++) {
		free(c->modules[i].built_name);
		free(c->modules[i].built_location);
		free(c->modules[i].dest_name);
		free(c->modules[i].dest_location);
	}
	free(c->modules);
	array_free(&c->patch);
	array_free(&c->patch_match);
	free(c->pre_build);
	free(c->post_build);
	free(c->pre_install);
	free(c->post_install);
	free(c->post_add);
	free(c->post_remove);
	array_free(&c->excl_kernel);
	array_free(&c->excl_arch);
	array_free(&c->excl_config);
	array_free(&c->excl_kernel_min);
	array_free(&c->excl_kernel_max);
	array_free(&c->build_depends);
	free(c->remake_initrd);
	free(c->obsolete_by);
	*c = (struct kf_dkms_conf){ 0 };
}

/* ---- parsing the driver's records, and DKMS's checks ---- */

struct errs {
	char *buf;
	size_t size, used;
	int n;
};

static void __attribute__((format(printf, 2, 3))) err_add(struct errs *e, const char *fmt, ...)
{
	e->n++;
	if (!e->buf || e->size == 0 || e->used + 1 >= e->size)
		return;
	if (e->used > 0)
		e->buf[e->used++] = '\n';
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->buf + e->used, e->size - e->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		e->used = e->used + (size_t)n < e->size ? e->used + (size_t)n : e->size - 1;
}

static int parse_records(const char *text, size_t len, struct kf_dkms_array vars[N_VARS], struct errs *e,
			 const char *path)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		if (nl - p == 3 && memcmp(p, "END", 3) == 0)
			return 0;
		char head[128];
		size_t hl = (size_t)(nl - p);
		if (hl >= sizeof(head))
			goto bad;
		memcpy(head, p, hl);
		head[hl] = '\0';
		char name[64];
		unsigned long idx, n;
		int used = 0;
		if (sscanf(head, "%63[A-Z_] %lu %lu%n", name, &idx, &n, &used) != 3 || (size_t)used != hl ||
		    idx >= DKMS_MAX_INDEX)
			goto bad;
		const char *val = nl + 1;
		if (n > (size_t)(end - val) || (size_t)(end - val) - n < 1 || val[n] != '\n')
			goto bad;
		size_t k = 0;
		while (k < N_VARS && strcmp(var_names[k], name) != 0)
			k++;
		if (k == N_VARS)
			goto bad;
		if (array_set(&vars[k], idx, val, n) < 0)
			return -ENOMEM;
		p = val + n + 1;
	}
bad:
	err_add(e, "%s: the values it set could not be read back (the evaluation's output is cut or malformed): "
		   "see the log; an index must be a number below %d",
		path, DKMS_MAX_INDEX);
	return -EINVAL;
}

/* element 0 of VARS[V], copied (NULL when unset or empty); false on -ENOMEM */
static bool take0(struct kf_dkms_array *vars, enum dkms_var v, char **out)
{
	const char *s = nz(&vars[v], 0);
	*out = s ? strdup(s) : NULL;
	return !s || *out;
}

/* yes/no directives (dkms.in:897-919): "" ok, yes in any case kept, no in any case cleared */
static bool yes_no(struct kf_dkms_array *vars, enum dkms_var v, struct errs *e, const char *path)
{
	const char *s = kf_dkms_array_get(&vars[v], 0);
	if (!s || !s[0] || strcasecmp(s, "no") == 0)
		return false;
	if (strcasecmp(s, "yes") == 0)
		return true;
	err_add(e, "%s: %s is '%s': DKMS accepts only yes or no (in any case); write %s=yes or remove it", path,
		var_names[v], s, var_names[v]);
	return false;
}

static bool ends_in_object(const char *s)
{
	return s && (kf_str_endswith(s, ".o") || kf_str_endswith(s, ".ko"));
}

/* A folder named by the conf, relative to the package's (or the modules') folder: no leading '/', no ".." component. */
static bool location_ok(const char *s)
{
	if (s[0] == '/')
		return false;
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		while (*p == '/')
			p++;
	}
	return true;
}

static int build_modules(struct kf_dkms_conf *c, struct kf_dkms_array *vars, struct errs *e)
{
	const char *path = c->path;
	/* records: 1 + the highest index of the four module arrays (STRIP does not count), holes included */
	size_t n = 0;
	const enum dkms_var fam[] = { V_BUILT_MODULE_NAME, V_BUILT_MODULE_LOCATION, V_DEST_MODULE_NAME,
				      V_DEST_MODULE_LOCATION };
	for (size_t k = 0; k < ARRAY_SIZE(fam); k++)
		if (vars[fam[k]].len > n)
			n = vars[fam[k]].len;
	c->modules = n ? calloc(n, sizeof(*c->modules)) : NULL;
	if (n && !c->modules)
		return -ENOMEM;
	c->n_modules = n;
	const char *strip0 = kf_dkms_array_get(&vars[V_STRIP], 0);
	for (size_t i = 0; i < n; i++) {
		struct kf_dkms_module *m = &c->modules[i];
		const char *bn = nz(&vars[V_BUILT_MODULE_NAME], i);
		const char *bl = nz(&vars[V_BUILT_MODULE_LOCATION], i);
		const char *dn = nz(&vars[V_DEST_MODULE_NAME], i);
		const char *dl = nz(&vars[V_DEST_MODULE_LOCATION], i);
		const char *st = kf_dkms_array_get(&vars[V_STRIP], i);
		/* STRIP (dkms.in:711-721): n... no, y... yes, empty: STRIP[0]'s; anything else strips */
		if (!st || !st[0])
			st = strip0;
		m->strip = !(st && (st[0] == 'n' || st[0] == 'N'));
		/* the built name defaults to PACKAGE_NAME only when there is one record */
		if (!bn && n == 1)
			bn = c->package_name;
		m->built_name = bn ? strdup(bn) : NULL;
		m->dest_name = dn ? strdup(dn) : bn ? strdup(bn) : NULL;
		m->built_location = bl ? kf_strdup_printf("%s%s", bl, kf_str_endswith(bl, "/") ? "" : "/") : strdup("");
		m->dest_location = dl ? strdup(dl) : NULL;
		if ((bn && !m->built_name) || ((dn || bn) && !m->dest_name) || !m->built_location ||
		    (dl && !m->dest_location))
			return -ENOMEM;
		if (!bn)
			err_add(e, "%s: BUILT_MODULE_NAME[%zu] is not set, and the module list has %zu records (0 to %zu): "
				   "a hole in the arrays is an error, as in DKMS; set BUILT_MODULE_NAME[%zu] or number "
				   "the records from 0 without gaps",
				path, i, n, n - 1, i);
		if (bn && !kf_dkms_good_name(bn))
			err_add(e, "%s: BUILT_MODULE_NAME[%zu] is '%s': a module name is letters, digits and . _ + ~ -, "
				   "no '/' (the folder is BUILT_MODULE_LOCATION)", path, i, bn);
		if (dn && !kf_dkms_good_name(dn))
			err_add(e, "%s: DEST_MODULE_NAME[%zu] is '%s': a module name is letters, digits and . _ + ~ -, "
				   "no '/'", path, i, dn);
		if (bl && !location_ok(bl))
			err_add(e, "%s: BUILT_MODULE_LOCATION[%zu] is '%s': a folder of the package, relative, without "
				   "'..'", path, i, bl);
		if (dl && !location_ok(dl[0] == '/' ? dl + 1 : dl))
			err_add(e, "%s: DEST_MODULE_LOCATION[%zu] is '%s': a folder under the kernel's modules, without "
				   "'..'", path, i, dl);
		if (ends_in_object(bn))
			err_add(e, "%s: BUILT_MODULE_NAME[%zu] is '%s': write the name without .o or .ko", path, i, bn);
		if (dn && ends_in_object(dn))
			err_add(e, "%s: DEST_MODULE_NAME[%zu] is '%s': write the name without .o or .ko", path, i, dn);
		if (!dl)
			err_add(e, "%s: DEST_MODULE_LOCATION[%zu] is not set: DKMS requires it for every record; set it, "
				   "e.g. DEST_MODULE_LOCATION[%zu]=\"/updates/dkms\"",
				path, i, i);
		else if (strncmp(dl, "/kernel", 7) != 0 && strncmp(dl, "/updates", 8) != 0 &&
			 strncmp(dl, "/extra", 6) != 0)
			err_add(e, "%s: DEST_MODULE_LOCATION[%zu] is '%s': it must begin with /kernel, /updates or "
				   "/extra; write e.g. \"/updates/dkms\"",
				path, i, dl);
	}
	/* read_conf_strict (dkms.in:927-973): the same built file twice, or the same installed name */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			struct kf_dkms_module *a = &c->modules[j], *b = &c->modules[i];
			if (a->built_name && b->built_name && strcmp(a->built_name, b->built_name) == 0 &&
			    strcmp(a->built_location, b->built_location) == 0)
				err_add(e, "%s: records #%zu and #%zu both name %s%s.ko (BUILT_MODULE_LOCATION and "
					   "BUILT_MODULE_NAME): list each module once",
					path, j, i, b->built_location, b->built_name);
			if (a->dest_name && b->dest_name && strcmp(a->dest_name, b->dest_name) == 0)
				err_add(e, "%s: records #%zu and #%zu both install %s.ko (DEST_MODULE_NAME): give each "
					   "module its own name",
					path, j, i, b->dest_name);
		}
	return 0;
}

static void move_array(struct kf_dkms_array *to, struct kf_dkms_array *from)
{
	*to = *from;
	*from = (struct kf_dkms_array){ 0 };
}

int kf_dkms_conf_parse(const char *path, const char *text, size_t len, struct kf_dkms_conf *out, char *why,
		       size_t why_size)
{
	struct kf_dkms_array vars[N_VARS] = { 0 };
	struct errs e = { .buf = why, .size = why_size };
	struct kf_dkms_conf c = { 0 };
	int r = -ENOMEM;
	*out = (struct kf_dkms_conf){ 0 };
	if (why && why_size)
		why[0] = '\0';
	c.path = strdup(path);
	if (!c.path)
		goto out;
	r = parse_records(text, len, vars, &e, path);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	if (!take0(vars, V_PACKAGE_NAME, &c.package_name) || !take0(vars, V_PACKAGE_VERSION, &c.package_version) ||
	    !take0(vars, V_CLEAN, &c.clean) || !take0(vars, V_PRE_BUILD, &c.pre_build) ||
	    !take0(vars, V_POST_BUILD, &c.post_build) || !take0(vars, V_PRE_INSTALL, &c.pre_install) ||
	    !take0(vars, V_POST_INSTALL, &c.post_install) || !take0(vars, V_POST_ADD, &c.post_add) ||
	    !take0(vars, V_POST_REMOVE, &c.post_remove) || !take0(vars, V_REMAKE_INITRD, &c.remake_initrd) ||
	    !take0(vars, V_OBSOLETE_BY, &c.obsolete_by))
		goto out;
	if (!c.package_name)
		err_add(&e, "%s: PACKAGE_NAME is not set: DKMS refuses the file too; add PACKAGE_NAME=\"name\"", path);
	if (!c.package_version)
		err_add(&e, "%s: PACKAGE_VERSION is not set: DKMS refuses the file too; add PACKAGE_VERSION=\"version\"",
			path);
	/* they name kforge's folders (DKMS_TREE/NAME/VER): a '/' or a leading '.' would lead elsewhere */
	if (c.package_name && !kf_dkms_good_name(c.package_name))
		err_add(&e, "%s: PACKAGE_NAME is '%s': letters, digits and . _ + ~ -, not beginning with . or -", path,
			c.package_name);
	if (c.package_version && !kf_dkms_good_name(c.package_version))
		err_add(&e, "%s: PACKAGE_VERSION is '%s': letters, digits and . _ + ~ -, not beginning with . or -", path,
			c.package_version);
	r = build_modules(&c, vars, &e);
	if (r < 0)
		goto out;
	move_array(&c.make, &vars[V_MAKE]);
	move_array(&c.make_match, &vars[V_MAKE_MATCH]);
	move_array(&c.patch, &vars[V_PATCH]);
	move_array(&c.patch_match, &vars[V_PATCH_MATCH]);
	move_array(&c.excl_kernel, &vars[V_BUILD_EXCLUSIVE_KERNEL]);
	move_array(&c.excl_arch, &vars[V_BUILD_EXCLUSIVE_ARCH]);
	move_array(&c.excl_config, &vars[V_BUILD_EXCLUSIVE_CONFIG]);
	move_array(&c.excl_kernel_min, &vars[V_BUILD_EXCLUSIVE_KERNEL_MIN]);
	move_array(&c.excl_kernel_max, &vars[V_BUILD_EXCLUSIVE_KERNEL_MAX]);
	move_array(&c.build_depends, &vars[V_BUILD_DEPENDS]);
	/* OBSOLETE_BY becomes the global KERNEL_MAX when no KERNEL_MAX is set for any record (dkms.in:819-831) */
	if (c.obsolete_by && !nz(&c.excl_kernel_max, 0)) {
		bool per_module = false;
		for (size_t i = 0; i < c.n_modules; i++)
			per_module = per_module || nz(&c.excl_kernel_max, i);
		r = per_module ? 0 : array_set(&c.excl_kernel_max, 0, c.obsolete_by, strlen(c.obsolete_by));
		if (r < 0)
			goto out;
	}
	c.autoinstall = yes_no(vars, V_AUTOINSTALL, &e, path);
	c.build_depends_rebuild = yes_no(vars, V_BUILD_DEPENDS_REBUILD, &e, path);
	c.no_weak_modules = yes_no(vars, V_NO_WEAK_MODULES, &e, path);
	r = e.n ? -EINVAL : 0;
out:
	for (size_t k = 0; k < N_VARS; k++)
		array_free(&vars[k]);
	if (r == -ENOMEM && why && why_size)
		snprintf(why, why_size, "%s: out of memory", path);
	if (r < 0)
		kf_dkms_conf_free(&c);
	else
		*out = c;
	return r;
}

/* ---- the reader ---- */

static int write_driver(const char *path)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	return kf_write_all(fd, kf_dkms_driver, strlen(kf_dkms_driver));
}

/* DIR exists: bubblewrap refuses to bind a missing folder */
static void add_readable(const char **list, size_t *n, const char *dir)
{
	if (dir && dir[0] == '/' && kf_is_dir(dir))
		list[(*n)++] = dir;
}

int kf_dkms_conf_read(struct kforge_job *job, const char *conf_path, const struct kf_dkms_vars *vars,
		      struct kf_dkms_conf *out)
{
	*out = (struct kf_dkms_conf){ 0 };
	const char *setting = vars->user_setting ? vars->user_setting : "the build user setting";
	_cleanup_free_ char *conf = realpath(conf_path, NULL);
	if (!conf || !kf_is_file(conf))
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "%s: no such dkms.conf (%s): a DKMS package is a folder with a dkms.conf at its top",
				       conf_path, conf ? "not a file" : strerror(errno));
	if (kforge_job_is_plan(job)) {
		kforge_plan_note(job, "%s is evaluated by bash as %s without network, as DKMS sources it, and its "
				      "settings read back",
				 conf, vars->user && vars->user[0] ? vars->user : "the build user ([build] user)");
		return -EAGAIN;
	}
	_cleanup_free_ char *confdir = strdup(conf);
	if (!confdir)
		return -ENOMEM;
	*strrchr(confdir, '/') = '\0';
	if (!confdir[0])
		strcpy(confdir, "/");
	const char *ksrc = vars->kernel_source_dir ? vars->kernel_source_dir : "";
	_cleanup_free_ char *kconfig = NULL;
	if (vars->kernel_config)
		kconfig = strdup(vars->kernel_config);
	else {
		kconfig = kf_strdup_printf("%s/include/config/auto.conf", ksrc);
		if (kconfig && !kf_is_file(kconfig)) {
			free(kconfig);
			kconfig = kf_strdup_printf("%s/.config", ksrc);
		}
	}
	if (!kconfig)
		return -ENOMEM;
	_cleanup_free_ char *installed = vars->installed_modules_dir
						 ? strdup(vars->installed_modules_dir)
						 : kf_strdup_printf("%s/%s/updates",
								    vars->install_tree ? vars->install_tree : "/lib/modules",
								    vars->kernelver ? vars->kernelver : "");
	if (!installed)
		return -ENOMEM;

	char dir[] = "/tmp/kforge-dkms-XXXXXX";
	if (!mkdtemp(dir))
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot make a folder for reading %s in /tmp: %s", conf,
				       strerror(errno));
	char drv[64];
	snprintf(drv, sizeof(drv), "%s/dkms-conf.sh", dir);
	int r = write_driver(drv);
	/* the build user reads the driver; nobody but kforge writes there */
	if (r == 0 && chmod(dir, 0755) < 0)
		r = -errno;
	_cleanup_free_ char *text = NULL;
	int status = -1;
	if (r == 0) {
		const char *readable[5];
		size_t nr = 0;
		add_readable(readable, &nr, dir);
		add_readable(readable, &nr, confdir);
		add_readable(readable, &nr, ksrc);
		add_readable(readable, &nr, vars->dkms_tree);
		readable[nr] = NULL;
		const char *const argv[] = { "bash", "--noprofile", "--norc", drv, conf, vars->kernelver ? vars->kernelver : "",
					     vars->arch ? vars->arch : "", ksrc, kconfig,
					     vars->dkms_tree ? vars->dkms_tree : "/var/lib/dkms",
					     vars->source_tree ? vars->source_tree : "/usr/src",
					     vars->install_tree ? vars->install_tree : "/lib/modules",
					     vars->module ? vars->module : "", vars->module_version ? vars->module_version : "",
					     installed ? installed : "", NULL };
		/* the conf's folder is its working directory, read-only; sourcing one takes milliseconds */
		struct kforge_sandbox sb = {
			.user = vars->user,
			.user_setting = setting,
			.readable = readable,
			.timeout = 60,
			.no_bwrap = vars->no_bwrap,
		};
		status = kforge_run_sandboxed(job, confdir, argv, &sb, &text);
	}
	unlink(drv);
	rmdir(dir);
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot set up the evaluation of %s in %s: %s", conf, dir,
				       strerror(-r));
	if (status == -ECANCELED) /* the build user: the job failed naming it */
		return status;
	if (status != 0)
		return kforge_job_fail(job, KFORGE_EXIT_BUILD,
				       "%s could not be evaluated (%s %d): see the log; a dkms.conf that needs the network, "
				       "root or to write outside /tmp cannot be read, since kforge never runs it as root",
				       conf, status < 0 ? "error" : "exit", status < 0 ? -status : status);
	char why[4096];
	r = kf_dkms_conf_parse(conf, text, strlen(text), out, why, sizeof(why));
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_REFUSED, "%s", why);
	struct kforge_ctx *ctx = kforge_job_ctx(job);
	if (out->n_modules == 0)
		kforge_warn(ctx, "%s: no module listed (BUILT_MODULE_NAME, DEST_MODULE_LOCATION): nothing to build", conf);
	if (out->clean && strcmp(out->clean, "true") != 0 && strcmp(out->clean, "/bin/true") != 0 &&
	    strcmp(out->clean, "/usr/bin/true") != 0)
		kforge_info(ctx, "%s: CLEAN is deprecated and never run (each build starts from a fresh copy)", conf);
	if (out->remake_initrd)
		kforge_info(ctx, "%s: REMAKE_INITRD is deprecated and ignored, as in DKMS 3.x", conf);
	if (out->obsolete_by)
		kforge_info(ctx, "%s: OBSOLETE_BY is deprecated: use BUILD_EXCLUSIVE_KERNEL_MAX instead", conf);
	return 0;
}

/* ---- choices for one kernel ---- */

/* bash's [[ S =~ RE ]]: POSIX ERE, unanchored; a regex that does not compile is no match (bash: status 2) */
static bool ere_match(const char *re, const char *s)
{
	regex_t rx;
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	bool m = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return m;
}

const char *kf_dkms_make_select(const struct kf_dkms_conf *c, const char *kernelver)
{
	const char *cmd = nz(&c->make_match, 0) ? NULL : nz(&c->make, 0);
	/* the count, not the highest index: with MAKE[0] and MAKE[2] only, index 2 is never looked at */
	for (size_t i = 0; i < c->make.count; i++) {
		const char *m = nz(&c->make, i), *re = nz(&c->make_match, i);
		if (m && re && ere_match(re, kernelver))
			cmd = m;
	}
	return cmd;
}

char *kf_dkms_make_command(const struct kf_dkms_conf *c, const char *kernelver, const char *kernel_source_dir,
			   const char *build_dir, int jobs)
{
	const char *sel = kf_dkms_make_select(c, kernelver);
	_cleanup_free_ char *base = sel ? strdup(sel) : kf_strdup_printf("make -C %s M=%s", kernel_source_dir, build_dir);
	if (!base)
		return NULL;
	/* ${make_command/#make/...}: a leading literal "make" only, even "makefoo" (dkms.in:1603) */
	if (strncmp(base, "make", 4) != 0) {
		char *r = base;
		base = NULL;
		return r;
	}
	char j[24] = "";
	if (jobs >= 0)
		snprintf(j, sizeof(j), jobs ? " -j%d" : " -j", jobs);
	return kf_strdup_printf("make%s KERNELRELEASE=%s%s", j, kernelver, base + 4);
}

int kf_dkms_patches(const struct kf_dkms_conf *c, const char *kernelver, struct kf_strv *out)
{
	for (size_t i = 0; i < c->patch.count; i++) {
		const char *p = nz(&c->patch, i), *re = nz(&c->patch_match, i);
		if (p && (!re || ere_match(re, kernelver)) && kf_strv_push(out, p) < 0)
			return -ENOMEM;
	}
	return 0;
}

char *kf_dkms_ver(const char *s)
{
	struct kf_strbuf b = { 0 };
	int r = 0;
	for (const char *p = s; *p && r == 0;) {
		size_t n = strspn(p, "0123456789");
		if (n) {
			r = kf_strbuf_appendf(&b, "%s%.*s", n == 1 ? "00" : n == 2 ? "0" : "", (int)n, p);
		} else {
			n = strcspn(p, "0123456789");
			r = kf_strbuf_appendf(&b, "%.*s", (int)n, p);
		}
		p += n;
	}
	if (r < 0) {
		kf_strbuf_release(&b);
		return NULL;
	}
	return kf_strbuf_steal(&b);
}

int kf_dkms_version_cmp(const char *a, const char *b)
{
	_cleanup_free_ char *va = kf_dkms_ver(a);
	_cleanup_free_ char *vb = kf_dkms_ver(b);
	if (!va || !vb)
		return strcmp(a, b);
	return strcmp(va, vb);
}

/* "^NAME=[ym]" in the config's text: grep's test, with NAME taken literally */
static bool config_set(const char *text, const char *name, size_t n)
{
	for (const char *line = text; line && *line;) {
		if (strncmp(line, name, n) == 0 && line[n] == '=' && (line[n + 1] == 'y' || line[n + 1] == 'm'))
			return true;
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return false;
}

static bool config_excludes(const char *rule, const char *label, const char *config_text, char **why)
{
	const char *ws = " \t\n";
	for (const char *p = rule + strspn(rule, ws); *p; p += strspn(p, ws)) {
		size_t n = strcspn(p, ws);
		bool neg = p[0] == '!';
		const char *name = neg ? p + 1 : p;
		size_t nn = neg ? n - 1 : n;
		if (nn && config_set(config_text, name, nn) == neg) {
			if (why)
				*why = kf_strdup_printf("%s: %.*s is %s", label, (int)nn, name,
							neg ? "set (y or m)" : "not y or m");
			return true;
		}
		p += n;
	}
	return false;
}

/* the four non-config rules at index I; LABEL_I: print "[I]" */
static bool simple_excludes(const struct kf_dkms_conf *c, size_t i, bool label_i, const char *kver,
			    const char *arch, char **why)
{
	char ix[32] = "";
	if (label_i)
		snprintf(ix, sizeof(ix), "[%zu]", i);
	const char *s;
	if ((s = nz(&c->excl_kernel, i)) && !ere_match(s, kver)) {
		if (why)
			*why = kf_strdup_printf("BUILD_EXCLUSIVE_KERNEL%s '%s' does not match %s", ix, s, kver);
		return true;
	}
	if ((s = nz(&c->excl_kernel_min, i)) && kf_dkms_version_cmp(kver, s) < 0) {
		if (why)
			*why = kf_strdup_printf("BUILD_EXCLUSIVE_KERNEL_MIN%s: %s is older than %s", ix, kver, s);
		return true;
	}
	if ((s = nz(&c->excl_kernel_max, i)) && kf_dkms_version_cmp(kver, s) > 0) {
		if (why)
			*why = kf_strdup_printf("BUILD_EXCLUSIVE_KERNEL_MAX%s: %s is newer than %s", ix, kver, s);
		return true;
	}
	if ((s = nz(&c->excl_arch, i)) && !ere_match(s, arch)) {
		if (why)
			*why = kf_strdup_printf("BUILD_EXCLUSIVE_ARCH%s '%s' does not match %s", ix, s, arch);
		return true;
	}
	return false;
}

bool kf_dkms_module_excluded(const struct kf_dkms_conf *c, size_t i, const char *kernelver, const char *arch,
			     const char *config_text, char **why)
{
	if (why)
		*why = NULL;
	/* the "global" rules are index 0: in bash $X is ${X[0]} */
	if (simple_excludes(c, 0, false, kernelver, arch, why) || simple_excludes(c, i, true, kernelver, arch, why))
		return true;
	/* CONFIG rules only where the config exists (DKMS: -e $kernel_config) */
	if (!config_text)
		return false;
	const char *s;
	char label[64];
	if ((s = nz(&c->excl_config, 0)) && config_excludes(s, "BUILD_EXCLUSIVE_CONFIG", config_text, why))
		return true;
	snprintf(label, sizeof(label), "BUILD_EXCLUSIVE_CONFIG[%zu]", i);
	return (s = nz(&c->excl_config, i)) && config_excludes(s, label, config_text, why);
}

static bool has_exclusive(const struct kf_dkms_conf *c, size_t i)
{
	return nz(&c->excl_kernel, i) || nz(&c->excl_kernel_min, i) || nz(&c->excl_kernel_max, i) ||
	       nz(&c->excl_arch, i) || nz(&c->excl_config, i);
}

bool kf_dkms_package_excluded(const struct kf_dkms_conf *c, const char *kernelver, const char *arch,
			      const char *config_text, char **why)
{
	bool directives = has_exclusive(c, 0);
	char *first = NULL;
	for (size_t i = 0; i < c->n_modules; i++) {
		char *w = NULL;
		directives = directives || has_exclusive(c, i);
		if (!kf_dkms_module_excluded(c, i, kernelver, arch, config_text, &w)) {
			free(w);
			free(first);
			if (why)
				*why = NULL;
			return false;
		}
		if (!first)
			first = w;
		else
			free(w);
	}
	if (directives && why)
		*why = first;
	else
		free(first);
	if (!directives && why)
		*why = NULL;
	return directives;
}
