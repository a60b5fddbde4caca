#!/usr/bin/env python3
"""What a migration's journal says its copy finished, and what a resume may keep of it.

copy_records.py JOURNAL SRC PARTIAL prints three numbers: the files a resume may keep
(the rule, modelled: the newest record of each path whose source SRC/path is unchanged
since it was read (device, inode, size, mtime, ctime; a single link) and had not changed
when its batch began (ctime strictly before the batch's moment), and whose copy
PARTIAL/path is still the one recorded (device, inode, size, ctime)); the records of
unchanged files that the racy-clean rule alone rules out; and all the records. With
--paths, the recorded paths instead, one a line, sorted."""
import json
import os
import sys


def records(journal):
    files = {}
    for line in open(journal):
        if not line.endswith("\n"):
            break  # torn by a kill: not a record
        r = json.loads(line)
        if r.get("seq") != "migrate":
            continue
        if r.get("event") == "made" and r.get("key") == "tmp":
            files = {}  # a new copy: nothing recorded of the old one counts
        if r.get("event") == "copied":
            for f in parse(r["files"]):
                files[f[0]] = f
    return files


def parse(text):
    """A batch's text: a line a file, 14 numbers and a space each, the path's length in
    bytes, ':', the path and a newline; as lists [path, 14 numbers]."""
    data, at, out = text.encode("utf-8", "surrogateescape"), 0, []
    while at < len(data):
        fields = data[at:].split(b" ", 14)
        numbers, rest = [int(x) for x in fields[:14]], fields[14]
        length, _, _ = rest.partition(b":")
        start = at + sum(len(x) + 1 for x in fields[:14]) + len(length) + 1
        name = data[start:start + int(length)]
        assert data[start + int(length):start + int(length) + 1] == b"\n", "not a record"
        out.append([name.decode("utf-8", "surrogateescape")] + numbers)
        at = start + int(length) + 1
    return out


def ns(sec, nsec):
    return sec * 10**9 + nsec


def unchanged(src, partial, p, f):
    try:
        s, c = os.lstat(os.path.join(src, p)), os.lstat(os.path.join(partial, p))
    except (FileNotFoundError, NotADirectoryError):
        return False
    return (s.st_nlink == 1 and [s.st_dev, s.st_ino, s.st_size] == f[1:4]
            and s.st_mtime_ns == ns(f[4], f[5]) and s.st_ctime_ns == ns(f[6], f[7])
            and [c.st_dev, c.st_ino, c.st_size] == f[8:11] and c.st_ctime_ns == ns(f[11], f[12]))


def racy(f):
    return (f[6], f[7]) >= (f[13], f[14])


def main():
    if sys.argv[1] == "--paths":
        for p in sorted(records(sys.argv[2])):
            print(p)
        return
    journal, src, partial = sys.argv[1:4]
    files = records(journal)
    same = {p for p, f in files.items() if partial and unchanged(src, partial, p, f)}
    print(sum(1 for p in same if not racy(files[p])), sum(1 for p in same if racy(files[p])), len(files))


main()
