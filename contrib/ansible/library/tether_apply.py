# -*- coding: utf-8 -*-
# An Ansible module for tether apply: one declared state of links, directories, folder
# migrations, farm packages and retargets, made true on each host (docs/fleets.md).
# MIT licensed, as tether.

DOCUMENTATION = r"""
module: tether_apply
short_description: Make a declared set of links, directories and migrations true with tether
description:
  - Runs C(tether apply --json) on the host with a declaration given in the task or a file
    on the host, and reports what changed. Idempotent; a second run changes nothing.
  - Supports check mode (C(tether apply --check)) and diff mode (the changes, one per line).
  - Fails, changing nothing, when any declared item cannot be reached (real data where a
    link is declared, a link elsewhere without force, a missing parent directory).
options:
  declaration:
    description: The declaration (links, absent, dirs, migrations, farms, retarget), as
      tether apply reads it from JSON. Relative paths are taken from I(chdir).
    type: dict
  src:
    description: A declaration file on the host (Lua or JSON).
    type: path
  chdir:
    description: The directory relative paths of an inline I(declaration) are taken from.
    type: path
  tether:
    description: The tether program on the host (default - found in PATH).
    type: path
  journal_dir:
    description: Where tether keeps the journals of its runs (default - its own).
    type: path
requirements: [tether]
"""

EXAMPLES = r"""
- name: the current release and the shared data
  tether_apply:
    declaration:
      dirs: [/srv/app/releases/42]
      links:
        - {path: /srv/app/current, target: releases/42, force: true}
      migrations:
        - {from: /srv/app/media, to: /mnt/big/media}
"""

RETURN = r"""
changed: {description: "whether anything changed (would change, in check mode)", type: bool}
items: {description: "every declared item, its status (ok, changed, failed) and reason", type: list}
id: {description: "the journal of the run (undo it with tether undo ID on the host)", type: str}
migrations: {description: "the ids of the migration runs it made (tether undo ID, with the id above, reverses them with the rest)", type: list}
"""

import json

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            declaration=dict(type="dict"),
            src=dict(type="path"),
            chdir=dict(type="path"),
            tether=dict(type="path"),
            journal_dir=dict(type="path"),
        ),
        mutually_exclusive=[("declaration", "src")],
        required_one_of=[("declaration", "src")],
        supports_check_mode=True,
    )
    p = module.params
    tether = p["tether"] or module.get_bin_path("tether")
    if not tether:
        module.fail_json(msg="tether is not installed on this host: no 'tether' in PATH "
                             "(install the tether package, or give its path as the tether option)")
    cmd = [tether, "--json", "--no-progress"]
    if p["journal_dir"]:
        cmd += ["--journal-dir", p["journal_dir"]]
    cmd += ["apply", p["src"] or "-"]
    if module.check_mode:
        cmd.append("--check")
    data = None if p["src"] else json.dumps(p["declaration"])
    try:
        rc, out, err = module.run_command(cmd, data=data, cwd=p["chdir"], binary_data=True)
    except OSError as e:  # the path given as tether is not a program
        module.fail_json(msg="cannot run tether (%s): %s" % (tether, e))
    try:
        report = json.loads(out)
    except ValueError:
        module.fail_json(msg="tether apply gave no report (exit %d): %s" % (rc, err.strip() or out.strip()),
                         rc=rc, cmd=cmd)
    result = dict(changed=bool(report.get("changed")), items=report.get("items", []),
                  id=report.get("id"), migrations=report.get("migrations", []), rc=rc)
    changes = [c for item in result["items"] for c in item.get("changes", [])]
    if module._diff and changes:
        result["diff"] = dict(prepared="\n".join(changes) + "\n")
    if rc != 0:
        failed = ["%s: %s" % (i.get("item"), i.get("reason")) for i in result["items"] if i.get("status") == "failed"]
        msg = (report.get("error") or {}).get("message") or err.strip() or "tether apply failed (exit %d)" % rc
        module.fail_json(msg="; ".join([msg] + failed), stderr=err, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
