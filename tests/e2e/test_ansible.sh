#!/usr/bin/env bash
# contrib/ansible's tether_apply module run by Debian's ansible-core, connection local,
# on an inventory of three "hosts" that are three sandboxes here: the first run changes
# all three, the second none, check mode after a manual change on one reports that one
# only and changes nothing, a conflict on one fails that one only, a registered result
# holds the ids of the migrations it ran, and a host without tether fails saying so.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if ! command -v ansible-playbook >/dev/null || [ ! -x /usr/bin/python3 ]; then
    skip_all "the Ansible module (ansible-core cannot be installed here: apt-get install ansible-core)"
fi
if [ "${TETHER_SANITIZE:-}" = ON ]; then
    skip_all "the Ansible runs are in the release pass (the module is Python; tether's own paths are sanitized by test_apply)"
fi

export HOME="$WORK/home" ANSIBLE_LOCAL_TEMP="$WORK/ansible-tmp" ANSIBLE_REMOTE_TEMP="$WORK/ansible-tmp"
export ANSIBLE_LIBRARY="$here/../../contrib/ansible/library" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_LOCALHOST_WARNING=0
mkdir -p "$HOME"
for h in h1 h2 h3; do mkdir -p "$WORK/$h/releases/1"; done
cat > inventory <<EOF
[fleet]
h1 sandbox=$WORK/h1
h2 sandbox=$WORK/h2
h3 sandbox=$WORK/h3

[fleet:vars]
ansible_connection=local
EOF
cat > site.yml <<'EOF'
- hosts: fleet
  gather_facts: false
  tasks:
    - name: the release links, as declared
      tether_apply:
        tether: "{{ tether_bin | default(omit) }}"
        journal_dir: "{{ sandbox }}/journal"
        declaration:
          dirs: ["{{ sandbox }}/releases/2"]
          links:
            - {path: "{{ sandbox }}/current", target: releases/1}
            - {path: "{{ sandbox }}/previous", target: releases/2}
EOF

play() { # play ARGS...: runs the playbook; $out, $rc, and recap() reads its summary
    out=$(ansible-playbook -i inventory site.yml "$@" 2>&1)
    rc=$?
}
recap() { # recap HOST FIELD: that host's count in the PLAY RECAP
    sed -n "s/^$1 *:.* $2=\([0-9]*\).*/\1/p" <<<"$out"
}
per_host() { # per_host FIELD: "h1=N h2=N h3=N"
    echo "h1=$(recap h1 "$1") h2=$(recap h2 "$1") h3=$(recap h3 "$1")"
}

play -e tether_bin="$TETHER"
check "first run: exit 0" is "$rc" 0
check "first run: changed on all three" is "$(per_host changed)" "h1=1 h2=1 h3=1"
check "first run: the links are there" is "$(readlink "$WORK/h2/current")|$(readlink "$WORK/h3/previous")" "releases/1|releases/2"

play -e tether_bin="$TETHER"
check "second run: exit 0" is "$rc" 0
check "second run: ok, nothing changed" is "$(per_host changed)" "h1=0 h2=0 h3=0"
check "second run: no new journal" is "$(find "$WORK"/h?/journal -name '*.jsonl' | wc -l)" 3

rm "$WORK/h2/current"
before=$(snapshot "$WORK/h2")
play -e tether_bin="$TETHER" --check --diff
check "check mode: exit 0" is "$rc" 0
check "check mode: changed on h2 only" is "$(per_host changed)" "h1=0 h2=1 h3=0"
check "check mode: the diff shows the change" has "$out" "+ symlink $WORK/h2/current -> releases/1"
check "check mode: nothing changed" is "$(snapshot "$WORK/h2")" "$before"

rm "$WORK/h3/current" && echo precious > "$WORK/h3/current"
play -e tether_bin="$TETHER"
check "conflict on h3: the play fails" is "$rc" 2
check "conflict on h3 fails h3 only" is "$(per_host failed)" "h1=0 h2=0 h3=1"
check "h2 was put right meanwhile" is "$(readlink "$WORK/h2/current")" releases/1
check "h3's data untouched" is "$(cat "$WORK/h3/current")" precious
check "the failure says why" has "$out" "$WORK/h3/current is a real file: a link is never put over real data"

# What a task registers: the ids of the migrations it ran (each in the host's journal),
# the apply's id and each item; a second run registers none.
for h in h1 h2 h3; do mkdir -p "$WORK/$h/media" "$WORK/$h/big" && echo "$h" > "$WORK/$h/media/film"; done
cat > migrate.yml <<'EOF'
- hosts: fleet
  gather_facts: false
  tasks:
    - name: the media on the big drive
      tether_apply:
        tether: "{{ tether_bin }}"
        journal_dir: "{{ sandbox }}/journal"
        declaration:
          migrations:
            - {from: "{{ sandbox }}/media", to: "{{ sandbox }}/big/media"}
      register: moved
    - name: what was registered
      copy:
        dest: "{{ sandbox }}/registered.json"
        content: "{{ {'migrations': moved.migrations, 'id': moved.id, 'changed': moved.changed, 'items': moved['items']} | to_json }}"
EOF
registered() { # registered HOST: "CHANGED N-MIGRATIONS EACH-IN-THE-JOURNAL ID-IN-THE-JOURNAL ITEM-STATUSES"
    python3 - "$WORK/$1" <<'PY'
import json, os, sys
d = json.load(open(os.path.join(sys.argv[1], "registered.json")))
there = lambda i: os.path.exists(os.path.join(sys.argv[1], "journal", i + ".jsonl"))
print(d["changed"], len(d["migrations"]), all(there(i) for i in d["migrations"]),
      d["id"] is not None and there(d["id"]), [i["status"] for i in d["items"]])
PY
}
out=$(ansible-playbook -i inventory migrate.yml -e tether_bin="$TETHER" 2>&1)
rc=$?
check "a migration task: exit 0" is "$rc" 0
check "registered: the migration's id, in the host's journal" is "$(registered h1)" "True 1 True True ['changed']"
check "registered on every host" is "$(registered h3)" "True 1 True True ['changed']"
check "the media moved" is "$(readlink "$WORK/h2/media")|$(cat "$WORK/h2/big/media/film")" "$WORK/h2/big/media|h2"
out=$(ansible-playbook -i inventory migrate.yml -e tether_bin="$TETHER" 2>&1)
check "a second run registers no migration" is "$(registered h2)" "False 0 True False ['ok']"

play -e tether_bin=/etc/hostname
check "tether given as something that is no program: failed clearly" has "$out" "/etc/hostname"
check "no program: every host failed" is "$(per_host failed)" "h1=1 h2=1 h3=1"
PATH=/usr/bin:/bin play
check "no tether on the host: failed clearly" has "$out" "tether is not installed on this host"
check "no tether: every host failed" is "$(per_host failed)" "h1=1 h2=1 h3=1"

finish
