/* archive.c: source tarballs unpacked in-process (libarchive), and single compressed files (a .patch.zst) decompressed. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "source/source.h"

/*
 * The decompressors libarchive has built in. One it lacks it would run as an external program
 * (`zstd -d`, `xz -d`): kforge spawns no such tool, so those are left out and the archive is
 * refused as unreadable instead.
 */
static void add_filters(struct archive *a, struct kf_runner *r)
{
	static const struct {
		const char *name;
		int (*add)(struct archive *);
	} filters[] = {
		{ "gzip", archive_read_support_filter_gzip },	{ "xz", archive_read_support_filter_xz },
		{ "zstd", archive_read_support_filter_zstd },	{ "bzip2", archive_read_support_filter_bzip2 },
		{ "lzma", archive_read_support_filter_lzma },
	};
	for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
		struct archive *probe = archive_read_new();
		int built_in = probe && filters[i].add(probe) == ARCHIVE_OK;
		if (probe)
			archive_read_free(probe);
		if (built_in)
			filters[i].add(a);
		else if (r)
			kf_dbg(r->ctx, "libarchive has no built-in %s: such tarballs are refused", filters[i].name);
	}
}

/* "linux-6.1/fs/btrfs/x.c" -> "fs/btrfs/x.c"; NULL for the top folder itself and files beside it. */
static const char *strip_first(const char *path)
{
	const char *slash = strchr(path, '/');
	if (!slash)
		return NULL;
	while (*slash == '/')
		slash++;
	return *slash ? slash : NULL;
}

/* Is REL (already checked) inside SUB, or (PARENT_FILES) a file right inside a folder above it? */
static bool wanted(const char *rel, const char *sub, bool parent_files, bool is_dir)
{
	size_t n = strlen(sub);
	if (strncmp(rel, sub, n) == 0 && (rel[n] == '\0' || rel[n] == '/'))
		return true;
	if (!parent_files || is_dir)
		return false;
	const char *slash = strrchr(rel, '/');
	size_t dlen = slash ? (size_t)(slash - rel) : 0;
	/* its folder is "" (the top) or SUB's prefix ending at a '/' */
	return dlen == 0 || (dlen < n && strncmp(rel, sub, dlen) == 0 && sub[dlen] == '/');
}

/*
 * REL without "./" parts and doubled slashes, checked name by name, into OUT; false when a
 * name is refused. *GIT says a name is .git: a tarball of a checkout, whose .git is skipped
 * (kbuild would see a git tree and add a "+" to the release).
 */
static bool clean_path(const char *rel, char *out, size_t size, bool *git)
{
	size_t o = 0;
	*git = false;
	for (const char *c = rel; *c;) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.')) {
			c += len + (slash ? 1 : 0);
			continue;
		}
		if (len == 4 && strncasecmp(c, ".git", 4) == 0)
			*git = true;
		else if (!kf_tree_name_ok(c, len))
			return false;
		if (o + len + 2 > size)
			return false;
		if (o)
			out[o++] = '/';
		memcpy(out + o, c, len);
		o += len;
		c += len + (slash ? 1 : 0);
	}
	out[o] = '\0';
	return o > 0;
}

struct unpack {
	struct kf_runner *r;
	const char *archive;
	struct kf_progress p;
	size_t files, skipped_git;
	unsigned long long bytes, size;
	char *why;
	size_t whysize;
};

static int refuse(struct unpack *u, const char *entry, const char *what)
{
	kf_why(u->why, u->whysize,
	       "%s: entry \"%s\" %s: refused (nothing is written outside the folder): is it a kernel source tarball "
	       "from where you think?",
	       u->archive, entry, what);
	return -EINVAL;
}

static int copy_data(struct unpack *u, struct archive *in, struct archive *out, const char *entry)
{
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t offset;
		int e = archive_read_data_block(in, &buf, &size, &offset);
		if (e == ARCHIVE_EOF)
			return 0;
		if (e < ARCHIVE_WARN) {
			kf_why(u->why, u->whysize, "%s: cannot read %s: %s (a damaged or truncated download? fetch it again)",
			       u->archive, entry, archive_error_string(in));
			return -EIO;
		}
		if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN) {
			kf_why(u->why, u->whysize, "cannot write %s: %s", entry, archive_error_string(out));
			return -EIO;
		}
		u->bytes += size;
	}
}

/* Reads ARCHIVE's entries into the current folder (the caller's DIR). */
static int unpack_here(struct unpack *u, struct archive *in, struct archive *out, const char *sub, bool parent_files)
{
	struct archive_entry *e;
	char full[4096], rel[4096], link[4096];
	for (;;) {
		int h = archive_read_next_header(in, &e);
		if (h == ARCHIVE_EOF)
			return 0;
		if (h < ARCHIVE_WARN) {
			kf_why(u->why, u->whysize, "%s: %s (a damaged or truncated download? fetch it again)", u->archive,
			       archive_error_string(in));
			return -EIO;
		}
		/* how far through the archive (compressed bytes read): skipped entries take time too */
		unsigned int pct = u->size ? (unsigned int)(100ULL * (unsigned long long)archive_filter_bytes(in, -1) / u->size) : 0;
		kf_progress_show(&u->p, false, "unpacking %s: %u%%, %zu files written", u->archive, pct > 100 ? 100 : pct,
				 u->files);
		const char *name = archive_entry_pathname(e);
		if (!name)
			return refuse(u, "(no name)", "has no name");
		if (name[0] == '/')
			return refuse(u, name, "is an absolute path");
		bool git;
		if (!clean_path(name, full, sizeof(full), &git))
			return refuse(u, name, "has a \"..\" or an impossible name in its path");
		const char *stripped = strip_first(full);
		if (!stripped)
			continue; /* the top folder, or what --strip-components=1 would drop */
		if (git) {
			if (!u->skipped_git++ && u->r)
				kf_runner_log(u->r, "# %s: %s and the rest of its .git skipped\n", u->archive, name);
			continue;
		}
		memmove(rel, stripped, strlen(stripped) + 1);
		mode_t type = archive_entry_filetype(e);
		const char *hard = archive_entry_hardlink(e);
		if (sub && !wanted(rel, sub, parent_files, type == AE_IFDIR))
			continue; /* skipped while reading: nothing written */
		if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && !hard)
			return refuse(u, name, "is a device, FIFO or socket");
		if (hard) {
			if (hard[0] == '/')
				return refuse(u, name, "is a hard link to an absolute path");
			const char *hs = clean_path(hard, full, sizeof(full), &git) ? strip_first(full) : NULL;
			if (!hs || git)
				return refuse(u, name, "is a hard link out of the tree");
			memmove(link, hs, strlen(hs) + 1);
			if (sub && !wanted(link, sub, parent_files, false)) {
				kf_why(u->why, u->whysize, "%s: %s is a hard link to %s, outside %s: unpack the whole tree",
				       u->archive, name, hard, sub);
				return -EINVAL;
			}
			archive_entry_set_hardlink(e, link);
		}
		if (type == AE_IFLNK) {
			const char *target = archive_entry_symlink(e);
			if (!target || !kf_tree_link_inside(rel, target))
				return refuse(u, name, "is a symlink that leaves the tree");
		}
		archive_entry_set_pathname(e, rel);
		/* the owner stays the user running kforge; no setuid bit survives (no ARCHIVE_EXTRACT_PERM) */
		int w = archive_write_header(out, e);
		if (w < ARCHIVE_WARN) {
			kf_why(u->why, u->whysize, "%s: cannot write %s: %s", u->archive, rel, archive_error_string(out));
			return -EIO;
		}
		if (archive_entry_size(e) > 0) {
			int r = copy_data(u, in, out, rel);
			if (r < 0)
				return r;
		}
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			kf_why(u->why, u->whysize, "%s: cannot finish %s: %s", u->archive, rel, archive_error_string(out));
			return -EIO;
		}
		u->files++;
	}
}

int kf_unpack_into(struct kf_runner *r, const char *archive, const char *subdir, unsigned int flags, const char *dir,
		   char *why, size_t whysize)
{
	_cleanup_free_ char *sub = NULL;
	if (subdir && kf_tree_path_check(subdir, &sub) < 0) {
		kf_why(why, whysize, "\"%s\" is not a folder inside a tree", subdir);
		return -EINVAL;
	}
	struct stat st;
	if (stat(archive, &st) < 0) {
		int e = -errno;
		kf_why(why, whysize, "%s: %s", archive, strerror(errno));
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		kf_why(why, whysize, "%s is not a regular file: give a tarball", archive);
		return -EINVAL;
	}
	struct unpack u = { .r = r, .archive = archive, .why = why, .whysize = whysize, .size = (unsigned long long)st.st_size };
	kf_progress_init(&u.p, r);
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	if (!in || !out) {
		archive_read_free(in);
		archive_write_free(out);
		return -ENOMEM;
	}
	add_filters(in, r);
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	/* the paths are relative to DIR: libarchive resolves them against the working folder */
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;
	if (cwd < 0 || chdir(dir) < 0) {
		rc = -errno;
		kf_why(why, whysize, "cannot enter %s: %s", dir, strerror(errno));
	} else if (archive_read_open_filename(in, archive, 1 << 16) != ARCHIVE_OK) {
		kf_why(why, whysize, "%s cannot be read as a tarball: %s: is it a kernel source tarball (tar, plain or with gzip, xz, zstd, bzip2)?",
		       archive, archive_error_string(in));
		rc = -EINVAL;
	} else {
		rc = unpack_here(&u, in, out, sub, flags & KF_TREE_PARENT_FILES);
		/* folders' times and modes are set last */
		if (archive_write_close(out) < ARCHIVE_WARN && rc == 0) {
			kf_why(why, whysize, "cannot finish unpacking %s: %s", archive, archive_error_string(out));
			rc = -EIO;
		}
	}
	if (cwd >= 0) {
		if (fchdir(cwd) < 0 && rc == 0) {
			rc = -errno;
			kf_why(why, whysize, "cannot return to the working folder: %s", strerror(errno));
		}
		close(cwd);
	}
	archive_read_free(in);
	archive_write_free(out);
	kf_progress_done(&u.p);
	if (rc == 0 && r)
		kf_runner_log(r, "# unpacked %s%s%s into %s: %zu entries, %llu bytes\n", archive, sub ? ", only " : "",
			      sub ? sub : "", dir, u.files, u.bytes);
	return rc;
}

struct unpack_args {
	struct kf_runner *r;
	const char *archive, *subdir;
};

static int unpack_fill(void *data, const char *dir, char *why, size_t whysize)
{
	struct unpack_args *a = data;
	return kf_unpack_into(a->r, a->archive, a->subdir, 0, dir, why, whysize);
}

int kf_unpack(struct kf_runner *r, const char *archive, const char *dest, const char *subdir, char *why,
	      size_t whysize)
{
	struct unpack_args a = { r, archive, subdir };
	return kf_tree_write(dest, unpack_fill, &a, why, whysize);
}

int kf_decompress(const char *src, const char *dest, char *why, size_t whysize)
{
	struct stat st;
	_cleanup_close_ int in = kf_open_regular(src, &st);
	if (in < 0) {
		kf_why(why, whysize, "%s: %s", src, in == -EINVAL ? "not a regular file" : strerror(-in));
		return in;
	}
	unsigned char magic[8];
	ssize_t n = pread(in, magic, sizeof(magic), 0);
	enum kforge_compression c = n > 0 ? kf_compression_of_magic(magic, (size_t)n) : KFORGE_COMPRESS_NONE;
	if (c == KFORGE_COMPRESS_NONE) {
		kf_why(why, whysize, "%s is neither zstd, xz nor gzip data (by its first bytes): is it the file you meant?",
		       src);
		return -EINVAL;
	}
	_cleanup_free_ char *tmp = kf_strdup_printf("%s.partial-%d", dest, (int)getpid());
	if (!tmp)
		return -ENOMEM;
	unlink(tmp);
	int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0) {
		int e = -errno;
		kf_why(why, whysize, "cannot create %s: %s", tmp, strerror(errno));
		return e;
	}
	int r = kf_decompress_fd(c, in, out, KF_DECOMPRESS_MAX);
	if (close(out) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, dest) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		kf_why(why, whysize, "cannot decompress %s (%s) into %s: %s", src,
		       c == KFORGE_COMPRESS_ZSTD ? "zstd" : c == KFORGE_COMPRESS_XZ ? "xz" : "gzip", dest,
		       r == -EBADMSG  ? "damaged or truncated data: fetch it again"
		       : r == -EFBIG ? "it decompresses to more than 4 GiB"
				     : strerror(-r));
	}
	return r;
}
