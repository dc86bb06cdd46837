// The Warden extension: starts `warden lsp` and adds two commands that run
// the CLI in a terminal. Everything else (diagnostics, completion, hover,
// definitions, rename, formatting) comes from the language server.
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
  const configured = vscode.workspace.getConfiguration("warden").get<string>("policy");
  if (configured) {
    return configured;
  }
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? ".";
}

function runInTerminal(args: string[]): void {
  const terminal = vscode.window.createTerminal("Warden");
  terminal.show();
  const quoted = [wardenPath(), ...args].map((a) => JSON.stringify(a)).join(" ");
  terminal.sendText(quoted);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const serverOptions: ServerOptions = { command: wardenPath(), args: ["lsp"] };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "warden" }],
  };
  client = new LanguageClient("warden", "Warden", serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand("warden.runTests", () =>
      runInTerminal(["test", "--policy", policyFolder(), "--coverage"]),
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
        runInTerminal(["check", "--policy", policyFolder(), ...picked.map((u) => u.fsPath)]);
      }
    }),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
