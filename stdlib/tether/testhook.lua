-- tether.testhook: the one place test hooks live. Inert unless one of these is set in
-- the environment (the tests set them; nothing else should):
--   TETHER_CRASH_AT=LABEL     kill this process with SIGKILL at that instant, exactly as
--                             a power cut would stop it (LABEL "first": at the first
--                             labelled instant the command reaches)
--   TETHER_TEST_AT=LABEL=CMD  run the shell command CMD at that instant (to provoke a
--                             real fault there: chattr +i, a mount, a full disk, a writer);
--                             several on lines of their own. CMD "pause SECONDS FILE"
--                             makes FILE and waits in this process, so a signal sent
--                             then reaches tether (system() would keep it from it)
--   TETHER_TEST_JOURNAL_FAILS_AT=LABEL=ENAME   from that instant on, every journal write
--                             fails with ENAME (a journal disk that fills up or goes
--                             read-only mid-run: on tmpfs a record still fits the last
--                             page, and an immutable flag does not stop an open file)
--   TETHER_TEST_SKIP_SPACE_CHECK=1   skip the free-space preflight, so a full disk can be
--                             met mid-copy
--   TETHER_TEST_BEFORE_APPLY=CMD     run CMD between planning and applying a bulk plan
--   TETHER_TEST_COPY_BATCH=N         a migration's copy journals the files it finished
--                             every N files (not every half second or so), so a kill
--                             mid-copy leaves records to resume from
-- Labels: STEP:begin and STEP:done for each step of a migration (undo-STEP:... for an
-- undo, rollback-STEP:... for the steps a rollback takes back), copy:N and verify:N after
-- the Nth file, probe:begin and probe:made around the link a migration tries beside SRC
-- (only where the filesystem cannot tell), plan:apply before a bulk plan is applied.
local M = {}

local crash_at = os.getenv("TETHER_CRASH_AT")
local run_at = {}
for line in (os.getenv("TETHER_TEST_AT") or ""):gmatch("[^\n]+") do
  local label, cmd = line:match("^([^=]+)=(.*)$")
  if label then run_at[label] = cmd end
end

local journal_label, journal_code = (os.getenv("TETHER_TEST_JOURNAL_FAILS_AT") or ""):match("^([^=]+)=(%u+)$")

M.active = crash_at ~= nil or next(run_at) ~= nil or journal_label ~= nil

-- The errno name every journal write fails with from now on, or nil.
function M.journal_error() return M.journal_failing end

-- Called at each labelled instant.
function M.point(label)
  if not M.active then return end
  if label == journal_label then M.journal_failing = journal_code end
  local cmd = run_at[label]
  local secs, marker = (cmd or ""):match("^pause ([%d.]+) (.+)$")
  if secs then
    io.open(marker, "w"):close()
    require("tether").sleep(tonumber(secs))
  elseif cmd then
    os.execute(cmd)
  end
  if label == crash_at or crash_at == "first" then os.execute("kill -KILL $PPID") end
end

function M.copy_batch() return tonumber(os.getenv("TETHER_TEST_COPY_BATCH") or "") end

function M.skip_space_check() return os.getenv("TETHER_TEST_SKIP_SPACE_CHECK") == "1" end

-- Between planning and applying a bulk plan (tests/e2e/test_bulk.sh).
function M.before_apply()
  local hook = os.getenv("TETHER_TEST_BEFORE_APPLY")
  if hook then os.execute(hook) end
  M.point("plan:apply")
end

return M
