-- Drives `warden lsp` from headless Neovim, as a user's editor would:
-- initialize, open a file, make a mistake, read the diagnostics, complete
-- after `app.`, hover, go to a definition, rename, format, shut down.
-- Writes what it saw as JSON to $REPORT; the Rust test
-- (crates/warden-cli/tests/lsp_neovim.rs) checks it.
local warden, root, report = os.getenv("WARDEN_BIN"), os.getenv("WORKSPACE"), os.getenv("REPORT")
local seen = { steps = {} }

local function done()
  vim.fn.writefile({ vim.json.encode(seen) }, report)
  vim.cmd("qall!")
end

local function fail(step, why)
  seen.failed = step .. ": " .. tostring(why)
  done()
end

vim.cmd("edit " .. root .. "/rules/identity.warden")
local buf = vim.api.nvim_get_current_buf()
local uri = vim.uri_from_bufnr(buf)
local client_id = vim.lsp.start({ name = "warden", cmd = { warden, "lsp" }, root_dir = root })
if not client_id then
  return fail("start", "vim.lsp.start returned nil")
end
local client = vim.lsp.get_client_by_id(client_id)
if not vim.wait(10000, function() return client.initialized end, 10) then
  return fail("initialize", "no initialize result")
end
seen.server = client.server_info and client.server_info.name

-- The position just after `after` in the first line holding `needle`.
local function position(needle, after)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local at = line:find(needle, 1, true)
    if at then
      return { line = i - 1, character = at - 1 + #after }
    end
  end
  error("not found: " .. needle)
end

local function request(method, params)
  local answers = vim.lsp.buf_request_sync(buf, method, params, 10000)
  local answer = answers and answers[client_id]
  if not answer then error(method .. ": no answer") end
  if answer.err then error(method .. ": " .. vim.inspect(answer.err)) end
  return answer.result
end

local function step(name, f)
  local ok, why = pcall(f)
  if not ok then
    fail(name, why)
    return false
  end
  table.insert(seen.steps, name)
  return true
end

local original = vim.api.nvim_buf_get_lines(buf, 0, -1, false)

local ok = step("diagnostics", function()
  -- A typo in a field name, typed into the buffer.
  for i, line in ipairs(original) do
    if line:find("app.spec.auth?.scim", 1, true) then
      local typo = line:gsub("auth%?%.scim", "auth?.scmi", 1)
      vim.api.nvim_buf_set_lines(buf, i - 1, i, false, { typo })
      break
    end
  end
  local found = vim.wait(10000, function() return #vim.diagnostic.get(buf) > 0 end, 10)
  if not found then error("no diagnostics") end
  local d = vim.diagnostic.get(buf)[1]
  seen.diagnostic = { code = d.code, message = d.message, line = d.lnum }
  -- Fixed again: the diagnostics clear.
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, original)
  if not vim.wait(10000, function() return #vim.diagnostic.get(buf) == 0 end, 10) then
    error("the diagnostics did not clear")
  end
end)
  and step("completion", function()
    local result = request("textDocument/completion", {
      textDocument = { uri = uri },
      position = position("app.spec.auth?.sso", "app."),
    })
    local items = result.items or result
    seen.completion = vim.tbl_map(function(i) return i.label end, items)
  end)
  and step("hover", function()
    local result = request("textDocument/hover", {
      textDocument = { uri = uri },
      position = position("auth?.sso", "a"),
    })
    seen.hover = result.contents.value
  end)
  and step("definition", function()
    local result = request("textDocument/definition", {
      textDocument = { uri = uri },
      position = position("spec.auth?.scim", "spec."),
    })
    local location = result.uri and result or result[1]
    seen.definition = { uri = location.uri, line = location.range.start.line }
  end)
  and step("rename", function()
    local edit = request("textDocument/rename", {
      textDocument = { uri = uri },
      position = position("rule corporate_sso", "rule "),
      newName = "sso_only",
    })
    vim.lsp.util.apply_workspace_edit(edit, client.offset_encoding)
    local files = 0
    for _ in pairs(edit.changes or {}) do files = files + 1 end
    seen.rename = {
      files = files,
      renamed = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n"):find("rule sso_only", 1, true) ~= nil,
    }
  end)
  and step("formatting", function()
    local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
    local formatted = table.concat(lines, "\n")
    for i, line in ipairs(lines) do
      if line:find("rule sso_only", 1, true) then
        vim.api.nvim_buf_set_lines(buf, i - 1, i, false, { (line:gsub("^rule ", "rule    ")) })
        break
      end
    end
    vim.lsp.buf.format({ bufnr = buf, timeout_ms = 10000 })
    seen.formatting = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n") == formatted
  end)
  and step("shutdown", function()
    client:stop()
    if not vim.wait(10000, function() return client:is_stopped() end, 10) then
      error("the server did not stop")
    end
  end)

if ok then done() end
