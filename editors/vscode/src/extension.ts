// The Warden extension: starts `warden lsp` and adds two commands that run
// the CLI in a terminal. Everything else (diagnostics, completion, hover,
// definitions, rename, formatting) comes from the language server.
import * as path from "path";
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

function wardenPath(): string {
  return vscode.workspace.getConfiguration("warden").get<string>("path") || "warden";
}

function policyFolder(): string {
  const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? ".";
  const configured = vscode.workspace.getConfiguration("warden").get<string>("policy");
  return configured ? path.resolve(workspace, configured) : workspace;
}

// Runs the CLI as a task: the arguments go to the process as they are, with
// no shell quoting to get wrong (PowerShell, cmd, bash alike).
function runCli(title: string, args: string[]): void {
  const task = new vscode.Task(
    { type: "warden", command: args[0] },
    vscode.TaskScope.Workspace,
    title,
    "warden",
    new vscode.ProcessExecution(wardenPath(), args),
  );
  void vscode.tasks.executeTask(task);
}

// The server reads the policy folder below the workspace folder
// (`warden.policy`, relative to it); empty means the workspace folder.
function initializationOptions(): { policy?: string } {
  const policy = vscode.workspace.getConfiguration("warden").get<string>("policy");
  return policy ? { policy } : {};
}

async function startClient(): Promise<void> {
  const serverOptions: ServerOptions = { command: wardenPath(), args: ["lsp"] };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "warden" }],
    initializationOptions: initializationOptions(),
  };
  client = new LanguageClient("warden", "Warden", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    void vscode.window.showErrorMessage(
      `Warden: could not start \`${wardenPath()} lsp\` (${String(error)}). ` +
        "Install warden (cargo install --path crates/warden-cli) or set `warden.path`.",
    );
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    // A new binary or policy folder takes effect at once: restart the server.
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("warden.path") || event.affectsConfiguration("warden.policy")) {
        await client?.stop();
        await startClient();
      }
    }),
    vscode.commands.registerCommand("warden.runTests", () =>
      runCli("Run Tests", ["test", "--policy", policyFolder(), "--coverage"]),
    ),
    vscode.commands.registerCommand("warden.checkManifest", async () => {
      const active = vscode.window.activeTextEditor?.document.uri.fsPath;
      const picked =
        active && /\.(ya?ml|json)$/.test(active)
          ? [vscode.Uri.file(active)]
          : await vscode.window.showOpenDialog({
              canSelectMany: true,
              filters: { Manifests: ["yaml", "yml", "json"] },
            });
      if (picked && picked.length > 0) {
        runCli("Check Manifest", ["check", "--policy", policyFolder(), ...picked.map((u) => u.fsPath)]);
      }
    }),
  );
  await startClient();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
