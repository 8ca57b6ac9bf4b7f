// The aicr extension's client: starts `<aicr.server.path> lsp` (the aicrc language server) over
// stdio for aicr documents. Highlighting and editing rules come from package.json alone, so they
// work even when the server cannot start.

'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
    const command = vscode.workspace.getConfiguration('aicr').get('server.path') || 'aicrc';
    const executable = { command, args: ['lsp'], transport: TransportKind.stdio };
    const serverOptions = { run: executable, debug: executable };
    const clientOptions = {
        documentSelector: [
            { scheme: 'file', language: 'aicr' },
            { scheme: 'untitled', language: 'aicr' },
        ],
    };
    client = new LanguageClient('aicr', 'aicr language server', serverOptions, clientOptions);

    context.subscriptions.push(
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration('aicr.server.path')) {
                vscode.window.showInformationMessage('aicr: reload the window to use the new aicr.server.path.');
            }
        }),
    );

    try {
        await client.start();
    } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        vscode.window.showErrorMessage(
            `aicr: cannot start the language server \`${command} lsp\` (${message}). Set aicr.server.path to the aicrc command.`,
        );
    }
}

function deactivate() {
    if (!client) {
        return undefined;
    }
    const stopping = client.stop();
    client = undefined;
    return stopping;
}

module.exports = { activate, deactivate };
