#!/usr/bin/env bash
# The declaration of docs/fleets.md, exactly as documented (read from the page), applied
# to the paths it names: /srv, /mnt and /home are tmpfs and /etc an overlay, in a mount
# namespace of this test's own (gone when it ends). The release link changes and the
# relative .profile is made through the new release (and through the next one, whose
# --check is the one docs/fleets.md shows); --check says what apply does; a
# second apply changes nothing; tether undo puts everything back.
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" != --inside ]; then
    if [ "$(id -u)" != 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
        . "$here/lib.sh"
        skip_all "needs root and a mount namespace (unshare -m) to stand in for /srv, /mnt, /home and /etc"
    fi
    exec unshare -m --propagation private bash "$0" --inside
fi
. "$here/lib.sh"

mkdir -p "$WORK/etc-upper" "$WORK/etc-work"
mount -t tmpfs tmpfs /srv && mount -t tmpfs tmpfs /mnt && mount -t tmpfs tmpfs /home &&
    mount -t overlay overlay -o "lowerdir=/etc,upperdir=$WORK/etc-upper,workdir=$WORK/etc-work" /etc || {
    echo "FAIL: cannot stand in for /srv, /mnt, /home and /etc"
    exit 1
}

# The machine the example describes: release 41 current, nginx's default site enabled,
# the media folder with data, a big drive, dotfiles, a link into the old NAS.
mkdir -p /srv/app/releases/41 /srv/app/media /srv/data /mnt/big /mnt/nas/share /mnt/old-nas/share \
    /etc/nginx/sites-available /etc/nginx/sites-enabled /etc/tether \
    /home/deploy/dotfiles/vim /home/deploy/dotfiles/git
echo 41 > /srv/app/releases/41/profile
ln -s releases/41 /srv/app/current
echo film > /srv/app/media/film && echo db > /srv/data/app.db
echo site > /etc/nginx/sites-available/app && echo default > /etc/nginx/sites-available/default
ln -s ../sites-available/default /etc/nginx/sites-enabled/default
echo vim > /home/deploy/dotfiles/vim/.vimrc && echo git > /home/deploy/dotfiles/git/.gitconfig
ln -s /mnt/old-nas/share /srv/nas-share

# The example itself: the first Lua block of docs/fleets.md.
awk '/^```lua$/ {on = 1; next} on && /^```$/ {exit} on' "$here/../../docs/fleets.md" > /etc/tether/web.lua
check "the example is the documented one" has "$(cat /etc/tether/web.lua)" 'target = "/srv/app/current/profile", relative = true'

tree() { for d in /srv /mnt /home /etc/nginx; do (cd "$d" && find . -printf "$d/%p|%y|%l|%s|%m\n"); done | LC_ALL=C sort; }
before=$(tree)

t apply --check /etc/tether/web.lua
check "--check: exit 0" is "$rc" 0
check "--check: the relative link through the new release" has "$out" \
    "+ symlink /home/deploy/.profile -> ../../srv/app/releases/42/profile"
check "--check: the release link" has "$out" "~ symlink /srv/app/current -> releases/42 (was releases/41)"
check "--check: the migration" has "$out" "> migrate /srv/app/media to /mnt/big/media, a link left at /srv/app/media"
check "--check: changed nothing" is "$(tree)" "$before"

t --json apply /etc/tether/web.lua
check "apply: exit 0" is "$rc" 0
id=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"])' <<<"$out")
check "apply: every item changed, one migration" is "$(python3 -c '
import json,sys
d = json.load(sys.stdin)
print(d["changed"], sorted({i["status"] for i in d["items"]}), len(d["migrations"]))' <<<"$out")" "True ['changed'] 1"
check ".profile: relative, through the new release" is "$(readlink /home/deploy/.profile)" "../../srv/app/releases/42/profile"
check "current: the new release" is "$(readlink /srv/app/current)" "releases/42"
check "nginx: app enabled, default gone" is "$(readlink /etc/nginx/sites-enabled/app)|$(test -e /etc/nginx/sites-enabled/default || echo gone)" \
    "../sites-available/app|gone"
check "the hard link" is "$(stat -c %i /srv/app/shared.db)" "$(stat -c %i /srv/data/app.db)"
check "the media on the big drive" is "$(readlink /srv/app/media)|$(cat /mnt/big/media/film)" "/mnt/big/media|film"
check "the farm" is "$(readlink /home/deploy/.vimrc)|$(readlink /home/deploy/.gitconfig)" \
    "dotfiles/vim/.vimrc|dotfiles/git/.gitconfig"
check "the retarget" is "$(readlink /srv/nas-share)" "/mnt/nas/share"
after=$(tree)

t --json apply /etc/tether/web.lua
check "a second apply: exit 0, nothing changed, every item ok" is "$rc|$(python3 -c '
import json,sys
d = json.load(sys.stdin)
print(d["changed"], sorted({i["status"] for i in d["items"]}))' <<<"$out")" "0|False ['ok']"
check "a second apply: the tree as the first left it" is "$(tree)" "$after"
t apply --check /etc/tether/web.lua
check "--check after: nothing differs" has "$out" "0 of 9 items differ"

# The next release: --check says what the page says it does, apply follows it (.profile
# through the new current), a second apply changes nothing.
sample=$(awk '/^\$ APP_RELEASE=43 tether apply --check/ {on = 1; next} on && /^```$/ {exit} on' "$here/../../docs/fleets.md")
APP_RELEASE=43 t apply --check /etc/tether/web.lua
check "release 43, --check: as docs/fleets.md shows it" is "$out" "$sample"
APP_RELEASE=43 t --json apply /etc/tether/web.lua
check "release 43: applied" is "$rc|$(readlink /srv/app/current)|$(readlink /home/deploy/.profile)" \
    "0|releases/43|../../srv/app/releases/43/profile"
id43=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$out")
APP_RELEASE=43 t --json apply /etc/tether/web.lua
check "release 43, again: nothing changed" is "$rc|$(python3 -c 'import json,sys; print(json.load(sys.stdin)["changed"])' <<<"$out")" "0|False"

t undo "$id43"
check "undo release 43: release 42 back" is "$rc|$(tree)" "0|$after"
t undo "$id"
check "undo: exit 0" is "$rc" 0
check "undo: the machine as it was" is "$(tree)" "$before"

finish
