"""`warden lsp` driven by a real LSP client (pytest-lsp) over stdio, with the
capabilities VS Code and Neovim send. Run with --timeout: a missing
notification would otherwise wait for ever."""

import asyncio
import os
import pathlib
import shutil

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = pathlib.Path(__file__).resolve().parents[2]
WARDEN = os.environ.get("WARDEN_BIN", str(ROOT / "target" / "debug" / "warden"))


@pytest.fixture
def workspace(tmp_path):
    """A copy of the checklist to edit."""
    dest = tmp_path / "policies"
    shutil.copytree(ROOT / "stdlib-policies", dest)
    return dest


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[WARDEN, "lsp"]),
    params=["visual-studio-code", "neovim"],
)
async def client(request, lsp_client: LanguageClient, workspace):
    await start_session(lsp_client, workspace, request.param)
    yield
    await lsp_client.shutdown_session()


async def start_session(lsp_client: LanguageClient, workspace, profile: str, options=None, root=None, skipped=0):
    # The server registers file watchers with clients that can take them.
    @lsp_client.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register(params):
        lsp_client.registrations = params.registrations

    root = root or workspace
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=client_capabilities(profile),
            root_uri=root.as_uri(),
            workspace_folders=[T.WorkspaceFolder(uri=root.as_uri(), name="policies")],
            initialization_options=options,
        )
    )
    lsp_client.workspace_root = workspace
    # The server publishes every file's diagnostics once initialized: let
    # that finish, so a test's own edits are not answered by it.
    files = len(list(workspace.rglob("*.warden"))) - skipped
    for _ in range(1000):
        if len(lsp_client.diagnostics) >= files:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the initial diagnostics never came")


def position_of(text: str, needle: str, after: str = "") -> T.Position:
    """The position just after `after` within the first `needle`."""
    offset = text.index(needle) + len(after)
    line = text.count("\n", 0, offset)
    column = offset - (text.rfind("\n", 0, offset) + 1)
    # The test texts are ASCII, so UTF-16 columns are byte columns.
    return T.Position(line=line, character=column)


async def published(client: LanguageClient, uri: str, send) -> list:
    """Sends a notification with `send()`, then waits for the diagnostics of
    `uri` it causes (the server publishes every file's, so any one
    notification may be another file's)."""
    # A marker the next notification for `uri` replaces (an empty list may be
    # a shared empty tuple, so identity alone cannot tell).
    waiting = object()
    client.diagnostics[uri] = waiting
    send()
    for _ in range(500):
        now = client.diagnostics.get(uri)
        if now is not waiting:
            return list(now)
        await asyncio.sleep(0.01)
    raise AssertionError(f"no diagnostics for {uri}")


def change(client: LanguageClient, uri: str, text: str):
    client.text_document_did_change(
        T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def open_file(client: LanguageClient, relative: str, text: str | None = None):
    path = client.workspace_root / relative
    text = path.read_text() if text is None else text
    uri = path.as_uri()
    found = await published(
        client,
        uri,
        lambda: client.text_document_did_open(
            T.DidOpenTextDocumentParams(
                text_document=T.TextDocumentItem(uri=uri, language_id="warden", version=1, text=text)
            )
        ),
    )
    return uri, text, found


async def code_actions(client: LanguageClient, uri: str, at: T.Position):
    """The code actions offered at a position."""
    return await client.text_document_code_action_async(
        T.CodeActionParams(
            text_document=T.TextDocumentIdentifier(uri=uri),
            range=T.Range(start=at, end=at),
            context=T.CodeActionContext(diagnostics=[]),
        )
    )


async def test_a_mistake_is_reported_and_fixed(client: LanguageClient):
    path = "rules/identity.warden"
    original = (client.workspace_root / path).read_text()
    broken = original.replace("app.spec.auth?.scim", "app.spec.auth?.scmi", 1)
    uri, _, found = await open_file(client, path, broken)
    assert [d.code for d in found] == ["E0102"], found
    assert "did you mean `scim`?" in found[0].message
    fixed = await published(client, uri, lambda: change(client, uri, original))
    assert fixed == []


async def test_completion_hover_definition_symbols_and_formatting(client: LanguageClient):
    path = "rules/identity.warden"
    uri, text, _ = await open_file(client, path)
    doc = T.TextDocumentIdentifier(uri=uri)

    completion = await client.text_document_completion_async(
        T.CompletionParams(text_document=doc, position=position_of(text, "app.spec.auth?.sso", "app."))
    )
    items = completion.items if hasattr(completion, "items") else completion
    assert [i.label for i in items] == ["apiVersion", "kind", "metadata", "spec"]

    hover = await client.text_document_hover_async(
        T.HoverParams(text_document=doc, position=position_of(text, "auth?.sso", "a"))
    )
    assert "auth: Auth?" in hover.contents.value
    assert "How users sign in" in hover.contents.value

    definition = await client.text_document_definition_async(
        T.DefinitionParams(text_document=doc, position=position_of(text, "spec.auth?.scim", "spec."))
    )
    assert definition.uri.endswith("/schema/manifest.warden")

    symbols = await client.text_document_document_symbol_async(
        T.DocumentSymbolParams(text_document=doc)
    )
    assert [s.name for s in symbols][:2] == ["corporate_sso", "mfa_above_public"]

    messy = text.replace("rule corporate_sso on manifest as app {", "rule   corporate_sso on manifest as app {")
    await published(client, uri, lambda: change(client, uri, messy))
    edits = await client.text_document_formatting_async(
        T.DocumentFormattingParams(
            text_document=doc, options=T.FormattingOptions(tab_size=2, insert_spaces=True)
        )
    )
    assert len(edits) == 1 and edits[0].new_text == text


INLINE = """package acme.inline

target deployment: {
  name: string,
  auth: { sso: bool, mfa: bool },
  endpoints: [{ url: string, tls_min_version: string }],
} default allow

@control("TLS-1")
rule tls on deployment as d {
  deny for e in d.endpoints when e.tls_min_version != "1.3" or not d.auth.mfa
}
"""


async def test_fields_of_inline_record_types_and_for_elements(client: LanguageClient):
    uri, text, _ = await open_file(client, "rules/inline.warden", INLINE)
    doc = T.TextDocumentIdentifier(uri=uri)
    # A field of a `for` element, whose type is an inline record in a list.
    definition = await client.text_document_definition_async(
        T.DefinitionParams(text_document=doc, position=position_of(text, "e.tls_min_version", "e.t"))
    )
    assert definition.uri == uri
    assert definition.range.start == position_of(text, "tls_min_version: string")
    # A field of an inline record type.
    definition = await client.text_document_definition_async(
        T.DefinitionParams(text_document=doc, position=position_of(text, "d.auth.mfa", "d.auth.m"))
    )
    assert definition.range.start == position_of(text, "mfa: bool")
    hover = await client.text_document_hover_async(
        T.HoverParams(text_document=doc, position=position_of(text, "e.tls_min_version", "e."))
    )
    assert "tls_min_version: string" in hover.contents.value
    # Completion while typing: nothing after the dot yet.
    typing = text.replace("not d.auth.mfa", "not d.auth.mfa\n  warn when d.auth.")
    await published(client, uri, lambda: change(client, uri, typing))
    completion = await client.text_document_completion_async(
        T.CompletionParams(text_document=doc, position=position_of(typing, "warn when d.auth.", "warn when d.auth."))
    )
    items = completion.items if hasattr(completion, "items") else completion
    assert [i.label for i in items] == ["sso", "mfa"]


async def test_secondary_labels_and_notes_become_related_information(client: LanguageClient):
    text = (
        "package acme.loop\n"
        "fn even(n: int) -> bool = if n == 0 then true else odd(n - 1)\n"
        "fn odd(n: int) -> bool = if n == 0 then false else even(n - 1)\n"
    )
    uri, _, found = await open_file(client, "rules/loop.warden", text)
    recursive = next(d for d in found if d.code == "E0108")
    related = recursive.related_information
    messages = [r.message for r in related]
    assert "this call leads back to it" in messages, messages
    assert any(m.startswith("note: call cycle:") for m in messages), messages
    assert all(r.location.uri == uri for r in related)
    label = next(r for r in related if r.message == "this call leads back to it")
    assert label.location.range.start.line in (1, 2)


async def test_positions_are_utf16(client: LanguageClient):
    # `é` is one UTF-16 unit but two bytes: the hover must still find `owner`.
    text = (
        "package café\nimport microapps.schema\n\n"
        "/// Résumé: owners matter.\n@control(\"X-1\") @severity(low)\n"
        "rule named on manifest as app {\n  deny when app.metadata.owner == \"é\"\n}\n"
    )
    uri, _, _ = await open_file(client, "extra/cafe.warden", text)
    line = text.split("\n").index('  deny when app.metadata.owner == "é"')
    character = len("  deny when app.metadata.o")
    hover = await client.text_document_hover_async(
        T.HoverParams(
            text_document=T.TextDocumentIdentifier(uri=uri),
            position=T.Position(line=line, character=character),
        )
    )
    assert "owner: string?" in hover.contents.value


async def test_references_rename_symbols_folds_signatures_tokens_and_fixes(client: LanguageClient):
    path = "rules/identity.warden"
    uri, text, _ = await open_file(client, path)
    doc = T.TextDocumentIdentifier(uri=uri)
    at = position_of(text, "rule corporate_sso", "rule ")

    references = await client.text_document_references_async(
        T.ReferenceParams(
            text_document=doc, position=at, context=T.ReferenceContext(include_declaration=True)
        )
    )
    files = {pathlib.Path(r.uri).name for r in references}
    assert {"identity.warden"} <= files and len(references) > 5

    rename = await client.text_document_rename_async(
        T.RenameParams(text_document=doc, position=at, new_name="sso_only")
    )
    changed = {pathlib.Path(u).name for u in rename.changes}
    assert changed == files
    assert all(e.new_text == "sso_only" for edits in rename.changes.values() for e in edits)

    symbols = await client.workspace_symbol_async(T.WorkspaceSymbolParams(query="secret"))
    assert "no_embedded_secrets" in [s.name for s in symbols]

    folds = await client.text_document_folding_range_async(T.FoldingRangeParams(text_document=doc))
    assert len(folds) >= 5

    tokens = await client.text_document_semantic_tokens_full_async(
        T.SemanticTokensParams(text_document=doc)
    )
    assert len(tokens.data) % 5 == 0 and len(tokens.data) > 100

    secrets_uri, secrets, _ = await open_file(client, "rules/secrets.warden")
    help = await client.text_document_signature_help_async(
        T.SignatureHelpParams(
            text_document=T.TextDocumentIdentifier(uri=secrets_uri),
            position=position_of(secrets, "looks_like_secret(value)", "looks_like_secret("),
        )
    )
    assert help.signatures[0].label.startswith("looks_like_secret(s: string)")

    broken = secrets.replace("secret.source in", "secret.sorce in", 1)
    await published(client, secrets_uri, lambda: change(client, secrets_uri, broken))
    where = position_of(broken, "secret.sorce", "secret.")
    actions = await code_actions(client, secrets_uri, where)
    assert actions[0].title == "Change to `source`"
    edit = actions[0].edit.changes[secrets_uri][0]
    assert edit.new_text == "source"


def items_of(completion):
    return completion.items if hasattr(completion, "items") else completion


async def test_diagnostic_codes_link_to_their_explanation(client: LanguageClient):
    path = "rules/identity.warden"
    original = (client.workspace_root / path).read_text()
    broken = original.replace("app.spec.auth?.scim", "app.spec.auth?.scmi", 1)
    _, _, found = await open_file(client, path, broken)
    href = found[0].code_description.href
    page = pathlib.Path(href.removeprefix("file://"))
    assert page.name == "E0102.md", href
    assert "E0102" in page.read_text()


async def test_completion_of_packages_rules_literals_and_builtin_snippets(client: LanguageClient):
    path = "rules/identity.warden"
    original = (client.workspace_root / path).read_text()

    # Package names after `import`, replacing the dotted prefix typed.
    text = original.replace("import microapps.lib", "import microapps.l", 1)
    uri, _, _ = await open_file(client, path, text)
    doc = T.TextDocumentIdentifier(uri=uri)
    at = position_of(text, "import microapps.l", "import microapps.l")
    items = items_of(await client.text_document_completion_async(T.CompletionParams(text_document=doc, position=at)))
    lib = next(i for i in items if i.label == "microapps.lib")
    assert lib.kind == T.CompletionItemKind.Module
    assert lib.text_edit.range.start.character == len("import ")
    assert "microapps.identity" not in [i.label for i in items]

    # Members of the union where a literal is expected.
    text = original.replace('app.spec.auth?.mfa != "required"', 'app.spec.auth?.sso == "', 1)
    await published(client, uri, lambda: change(client, uri, text))
    at = position_of(text, 'app.spec.auth?.sso == "', 'app.spec.auth?.sso == "')
    items = items_of(await client.text_document_completion_async(T.CompletionParams(text_document=doc, position=at)))
    assert [i.label for i in items] == ['"oidc"', '"saml"', '"none"']
    assert all(i.kind == T.CompletionItemKind.EnumMember for i in items)

    # Built-ins insert as snippets, one placeholder per parameter.
    at = position_of(original, "deny when ", "deny when ")
    await published(client, uri, lambda: change(client, uri, original))
    items = items_of(await client.text_document_completion_async(T.CompletionParams(text_document=doc, position=at)))
    replace = next(i for i in items if i.label == "replace")
    assert replace.insert_text == "replace(${1:s}, ${2:from}, ${3:to})"
    assert replace.insert_text_format == T.InsertTextFormat.Snippet

    # Full rule names in a test's `expect` (and a waiver's `for`).
    tests_path = "tests/identity.warden"
    tests_text = (client.workspace_root / tests_path).read_text()
    typed = tests_text + '\ntest scratch {\n  given manifest = fixture("x.yaml")\n  expect deny microapps.identity.sc'
    tests_uri, _, _ = await open_file(client, tests_path, typed)
    end = T.Position(line=typed.count("\n"), character=len(typed.rsplit("\n", 1)[1]))
    items = items_of(
        await client.text_document_completion_async(
            T.CompletionParams(text_document=T.TextDocumentIdentifier(uri=tests_uri), position=end)
        )
    )
    scim = next(i for i in items if i.label == "microapps.identity.scim_provisioning")
    assert scim.detail == "severity medium · control IAM-3"


async def test_definition_and_references_of_lets_fields_and_packages(client: LanguageClient):
    gateway_uri, gateway, _ = await open_file(client, "rules/gateway.warden")
    doc = T.TextDocumentIdentifier(uri=gateway_uri)
    # A `let`: its use goes to it, and its references stay in its rule.
    use = position_of(gateway, "deny when app ==", "deny when a")
    definition = await client.text_document_definition_async(T.DefinitionParams(text_document=doc, position=use))
    assert definition.range.start == position_of(gateway, "let app", "let ")
    refs = await client.text_document_references_async(
        T.ReferenceParams(text_document=doc, position=use, context=T.ReferenceContext(include_declaration=True))
    )
    first_rule_end = gateway.index("\n}\n", gateway.index("let app")) 
    end_line = gateway.count("\n", 0, first_rule_end)
    assert len(refs) >= 4 and all(r.range.start.line <= end_line for r in refs)

    # A field, from its declaration: the uses in rules, messages included.
    schema_uri, schema, _ = await open_file(client, "schema/manifest.warden")
    refs = await client.text_document_references_async(
        T.ReferenceParams(
            text_document=T.TextDocumentIdentifier(uri=schema_uri),
            position=position_of(schema, "  scim?", "  s"),
            context=T.ReferenceContext(include_declaration=True),
        )
    )
    assert sum(r.uri.endswith("/rules/identity.warden") for r in refs) == 2

    # A package: from an import to its `package` line, and every import of it.
    identity_uri, identity, _ = await open_file(client, "rules/identity.warden")
    at = position_of(identity, "import microapps.schema", "import microapps.s")
    definition = await client.text_document_definition_async(
        T.DefinitionParams(text_document=T.TextDocumentIdentifier(uri=identity_uri), position=at)
    )
    assert "/schema/" in definition.uri
    refs = await client.text_document_references_async(
        T.ReferenceParams(
            text_document=T.TextDocumentIdentifier(uri=identity_uri),
            position=at,
            context=T.ReferenceContext(include_declaration=True),
        )
    )
    assert len({r.uri for r in refs}) >= 5


async def test_code_lenses_run_a_test_and_evaluate_a_fixture(client: LanguageClient):
    refreshed = []

    @client.feature(T.WORKSPACE_CODE_LENS_REFRESH)
    def refresh(params):
        refreshed.append(params)

    tests_uri, _, _ = await open_file(client, "tests/identity.warden")
    doc = T.TextDocumentIdentifier(uri=tests_uri)
    lenses = await client.text_document_code_lens_async(T.CodeLensParams(text_document=doc))
    run = lenses[0].command
    assert run.title == "▶ Run test" and run.command == "warden.lsp.runTest"
    outcome = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command=run.command, arguments=run.arguments)
    )
    assert outcome["summary"]["failed"] == 0 and outcome["summary"]["passed"] >= 1
    lenses = await client.text_document_code_lens_async(T.CodeLensParams(text_document=doc))
    assert lenses[0].command.title.startswith("▶ Run test · ✓ passed ("), lenses[0].command.title
    # Clients that can refresh lenses (VS Code) are told to.
    capability = client.capabilities.workspace and client.capabilities.workspace.code_lens
    assert bool(refreshed) == bool(capability and capability.refresh_support)

    # Evaluate: the server asks which fixture (the ones the tests use).
    asked = []

    @client.feature(T.WINDOW_SHOW_MESSAGE_REQUEST)
    def pick(params: T.ShowMessageRequestParams):
        asked.append(params)
        return next(a for a in params.actions if a.title.endswith("IAM-1-local-accounts.yaml"))

    rules_uri, _, _ = await open_file(client, "rules/identity.warden")
    rules = T.TextDocumentIdentifier(uri=rules_uri)
    lenses = await client.text_document_code_lens_async(T.CodeLensParams(text_document=rules))
    evaluate = lenses[0].command
    assert evaluate.title == "Evaluate against fixture…"
    decision = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command=evaluate.command, arguments=evaluate.arguments)
    )
    assert asked and "manifest" in asked[0].message
    assert decision["decision"] == "deny"
    assert any(f.get("control") == "IAM-1" for f in decision["findings"])
    lenses = await client.text_document_code_lens_async(T.CodeLensParams(text_document=rules))
    title = lenses[0].command.title
    assert title.startswith("Evaluate against fixture… · deny · ") and "IAM-1-local-accounts.yaml" in title, title

    # An edit makes the outcomes stale: the lenses go back to their actions.
    await published(client, rules_uri, lambda: change(client, rules_uri, (client.workspace_root / "rules/identity.warden").read_text() + "\n"))
    lenses = await client.text_document_code_lens_async(T.CodeLensParams(text_document=rules))
    assert lenses[0].command.title == "Evaluate against fixture…"


async def test_decisions_vs_main_lens_counts_what_a_change_moves(client: LanguageClient):
    import subprocess

    root = client.workspace_root

    @client.feature(T.WORKSPACE_CODE_LENS_REFRESH)
    def refresh(params):
        pass

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", *args],
            cwd=root, check=True, capture_output=True,
        )

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "base")

    schema_uri, _, _ = await open_file(client, "schema/manifest.warden")
    schema = T.TextDocumentIdentifier(uri=schema_uri)

    async def impact_lens():
        lenses = await client.text_document_code_lens_async(T.CodeLensParams(text_document=schema))
        return next(l for l in lenses if l.command.command == "warden.lsp.impact")

    lens = await impact_lens()
    assert lens.command.title == "Decisions vs main"
    assert list(lens.command.arguments) == [{"target": "manifest"}]
    outcome = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command=lens.command.command, arguments=lens.command.arguments)
    )
    assert outcome["base"] == "main" and outcome["compared"] > 20 and outcome["changed"] == [], outcome
    assert (await impact_lens()).command.title == f"Decisions vs main · 0 of {outcome['compared']} changed"

    # An edit, unsaved, that lets `sso: none` through: one test's decision moves.
    rules_uri, rules_text, _ = await open_file(client, "rules/identity.warden")
    loosened = rules_text.replace('in ["oidc", "saml"])', 'in ["oidc", "saml", "none"])', 1)
    assert loosened != rules_text
    await published(client, rules_uri, lambda: change(client, rules_uri, loosened))
    outcome = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command=lens.command.command, arguments=lens.command.arguments)
    )
    moved = outcome["changed"]
    assert len(moved) == 1, outcome
    assert moved[0]["test"].endswith("app_without_sso_is_denied")
    assert moved[0]["before"].startswith("deny") and moved[0]["after"].startswith("allow"), moved
    assert (await impact_lens()).command.title == f"Decisions vs main · 1 of {outcome['compared']} changed"

    # A base that is not a revision: the lens says so, and nothing breaks.
    outcome = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="warden.lsp.impact", arguments=[{"target": "manifest", "base": "no-such-branch"}])
    )
    assert outcome is None
    assert (await impact_lens()).command.title == "Decisions vs main · not compared"


async def test_create_a_test_for_a_rule(client: LanguageClient):
    uri, text, _ = await open_file(client, "rules/identity.warden")
    at = position_of(text, "rule scim_provisioning", "rule s")
    actions = await code_actions(client, uri, at)
    create = next(a for a in actions if a.title == "Create a test for `scim_provisioning`")
    edit = create.edit.changes[uri][0]
    assert "expect deny microapps.identity.scim_provisioning" in edit.new_text
    # Applied, the set has no errors.
    found = await published(client, uri, lambda: change(client, uri, text + edit.new_text))
    assert [d for d in found if d.severity == T.DiagnosticSeverity.Error] == []


async def test_hover_of_rules_and_builtins_keywords_a_missing_control_and_renaming_a_let(client: LanguageClient):
    path = "rules/identity.warden"
    original = (client.workspace_root / path).read_text()
    # A rule without `@control`: W0002 and its fix.
    text = original.replace('@severity(medium) @control("IAM-3")', "@severity(medium)", 1)
    uri, _, found = await open_file(client, path, text)
    assert [d.code for d in found] == ["W0002"], found
    doc = T.TextDocumentIdentifier(uri=uri)

    hover = await client.text_document_hover_async(
        T.HoverParams(text_document=doc, position=position_of(text, "rule corporate_sso", "rule c"))
    )
    assert "rule corporate_sso on manifest" in hover.contents.value
    assert "control IAM-1" in hover.contents.value
    assert "corporate SSO" in hover.contents.value  # its `///` description

    hover = await client.text_document_hover_async(
        T.HoverParams(text_document=doc, position=position_of(text, "to_string(", "to_s"))
    )
    assert "to_string(x: any) -> string" in hover.contents.value

    items = items_of(
        await client.text_document_completion_async(
            T.CompletionParams(text_document=doc, position=position_of(text, "deny when ", "deny when "))
        )
    )
    labels = {i.label for i in items}
    assert {"not", "all", "any", "count", "starts_with"} <= labels

    at = position_of(text, "rule scim_provisioning", "rule s")
    actions = await code_actions(client, uri, at)
    add = next(a for a in actions if a.title == 'Add `@control("…")`')
    assert add.edit.changes[uri][0].new_text == '@control("TODO")\n'

    # A `let`: renamed in its rule only.
    gateway_uri, gateway, _ = await open_file(client, "rules/gateway.warden")
    rename = await client.text_document_rename_async(
        T.RenameParams(
            text_document=T.TextDocumentIdentifier(uri=gateway_uri),
            position=position_of(gateway, "let app", "let a"),
            new_name="entry",
        )
    )
    edits = rename.changes[gateway_uri]
    first_rule_end = gateway.count("\n", 0, gateway.index("\n}\n", gateway.index("let app")))
    assert len(edits) >= 4 and all(e.range.start.line <= first_rule_end for e in edits)
    assert list(rename.changes) == [gateway_uri]


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[WARDEN, "lsp"],
        # Each request waits 300 ms on its snapshot: time for an edit to land.
        server_env={**os.environ, "WARDEN_LSP_TEST_REQUEST_DELAY_MS": "300"},
    ),
)
async def slow_client(lsp_client: LanguageClient, workspace):
    await start_session(lsp_client, workspace, "visual-studio-code")
    yield
    await lsp_client.shutdown_session()


async def test_an_edit_cancels_a_request_in_flight(slow_client: LanguageClient):
    client = slow_client
    uri, text, _ = await open_file(client, "rules/identity.warden")
    hover = asyncio.ensure_future(
        client.text_document_hover_async(
            T.HoverParams(
                text_document=T.TextDocumentIdentifier(uri=uri),
                position=position_of(text, "auth?.sso", "a"),
            )
        )
    )
    await asyncio.sleep(0.1)
    change(client, uri, text + "\n")
    with pytest.raises(Exception) as cancelled:
        await hover
    assert getattr(cancelled.value, "code", None) == -32801, repr(cancelled.value)
    # The server goes on, on the new text.
    again = await client.text_document_hover_async(
        T.HoverParams(
            text_document=T.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "auth?.sso", "a"),
        )
    )
    assert "auth: Auth?" in again.contents.value



async def test_a_closed_unsaved_file_leaves_no_diagnostics_behind(client: LanguageClient):
    uri, _, found = await open_file(client, "scratch/new.warden", "package scratch\nrule r on nowhere {\n}\n")
    assert found, "the unsaved file has errors"
    cleared = await published(
        client,
        uri,
        lambda: client.text_document_did_close(
            T.DidCloseTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=uri))
        ),
    )
    assert cleared == []


async def test_files_changed_outside_the_editor_are_read_again(client: LanguageClient):
    if client.capabilities.workspace.did_change_watched_files is None or not client.capabilities.workspace.did_change_watched_files.dynamic_registration:
        pytest.skip("this client does not watch files for servers")
    for _ in range(200):
        if getattr(client, "registrations", None):
            break
        await asyncio.sleep(0.01)
    watched = [w["globPattern"] for r in client.registrations for w in r.register_options["watchers"]]
    assert watched == ["**/*.warden", "**/*.json"]
    # A file written by another program (a branch switch), then announced.
    path = client.workspace_root / "rules" / "extra.warden"
    path.write_text("package microapps.extra\nimport microapps.schema\n@control(\"X-1\")\nrule r on manifest as app {\n  deny when app.spec.auth?.scmi\n}\n")
    found = await published(
        client,
        path.as_uri(),
        lambda: client.workspace_did_change_watched_files(
            T.DidChangeWatchedFilesParams(changes=[T.FileEvent(uri=path.as_uri(), type=T.FileChangeType.Created)])
        ),
    )
    assert [d.code for d in found] == ["E0102"]
    path.unlink()
    gone = await published(
        client,
        path.as_uri(),
        lambda: client.workspace_did_change_watched_files(
            T.DidChangeWatchedFilesParams(changes=[T.FileEvent(uri=path.as_uri(), type=T.FileChangeType.Deleted)])
        ),
    )
    assert gone == []


async def test_a_quote_the_editor_closed_is_replaced_with_the_member(client: LanguageClient):
    path = "rules/identity.warden"
    original = (client.workspace_root / path).read_text()
    text = original.replace('app.spec.auth?.mfa != "required"', 'app.spec.auth?.sso == ""', 1)
    uri, _, _ = await open_file(client, path, text)
    at = position_of(text, 'app.spec.auth?.sso == ""', 'app.spec.auth?.sso == "')
    items = items_of(
        await client.text_document_completion_async(
            T.CompletionParams(text_document=T.TextDocumentIdentifier(uri=uri), position=at)
        )
    )
    oidc = next(i for i in items if i.label == '"oidc"')
    assert oidc.text_edit.range.start.character == at.character - 1
    assert oidc.text_edit.range.end.character == at.character + 1


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[WARDEN, "lsp"]))
async def repository_client(lsp_client: LanguageClient, tmp_path):
    """A repository whose policies are in `policies/`, beside other files:
    one unreadable policy inside, a broken one outside."""
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "stdlib-policies", policies)
    (policies / "rules" / "latin1.warden").write_bytes(b"package caf\xe9\n")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "draft.warden").write_text("package draft\nrule broken on nowhere {\n")
    lsp_client.workspace_root = policies
    await start_session(lsp_client, policies, "visual-studio-code", options={"policy": "policies"}, root=tmp_path, skipped=1)
    yield
    await lsp_client.shutdown_session()


async def test_the_policy_folder_option_and_an_unreadable_file(repository_client: LanguageClient):
    client = repository_client
    published_paths = {pathlib.Path(u.removeprefix("file://")) for u in client.diagnostics}
    policies = client.workspace_root
    assert published_paths and all(policies in p.parents for p in published_paths), published_paths
    assert all(list(d) == [] for d in client.diagnostics.values()), "the checklist alone is clean"
    warnings = [m.message for m in client.messages if m.type == T.MessageType.Warning]
    assert any("latin1.warden" in w for w in warnings), warnings
