#!/usr/bin/env node
// Tokenizes .aicr files with the extension's TextMate grammar, the way VS Code does (vscode-textmate
// on the Oniguruma WASM engine), and reports every piece of text the grammar gives no scope to.
//
//   node test/tokenize.js FILE_OR_DIR...   one line per problem: FILE:LINE:COL: unrecognised token 'TEXT'
//                                          (directories are searched for *.aicr files)
//   node test/tokenize.js --dump FILE      the tokens of one file as JSON:
//                                          [{line, startIndex, endIndex, text, scopes}, ...]
//
// A token is unrecognised when it holds non-whitespace characters and has no scope besides
// `source.aicr` and `meta.*` ones (meta scopes only mark regions, they never colour text).
// Exit status: 0 when every file is fully scoped, 1 when there are problems, 2 on a usage or setup error.

'use strict';

const fs = require('fs');
const path = require('path');

const GRAMMAR_PATH = path.resolve(__dirname, '..', 'syntaxes', 'aicr.tmLanguage.json');
const SCOPE_NAME = 'source.aicr';
const USAGE = 'usage: node test/tokenize.js FILE_OR_DIR...\n       node test/tokenize.js --dump FILE\n';

function fail(message) {
    process.stderr.write(`tokenize.js: ${message}\n`);
    process.exit(2);
}

function loadModules() {
    try {
        return { vsctm: require('vscode-textmate'), oniguruma: require('vscode-oniguruma') };
    } catch (err) {
        fail(`${err.message}\ninstall the dependencies first: npm ci --prefix editors/vscode`);
    }
    return undefined;
}

async function loadGrammar() {
    const { vsctm, oniguruma } = loadModules();
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM({ data: wasm });
    const registry = new vsctm.Registry({
        onigLib: Promise.resolve({
            createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
            createOnigString: (text) => new oniguruma.OnigString(text),
        }),
        loadGrammar: async (scopeName) => {
            if (scopeName !== SCOPE_NAME) {
                return null;
            }
            return vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR_PATH, 'utf8'), GRAMMAR_PATH);
        },
    });
    const grammar = await registry.loadGrammar(SCOPE_NAME);
    if (!grammar) {
        fail(`cannot load the grammar ${GRAMMAR_PATH}`);
    }
    return { vsctm, grammar };
}

// Every token of a file, line by line, carrying the rule stack from one line to the next.
function tokenize(vsctm, grammar, text) {
    const tokens = [];
    let ruleStack = vsctm.INITIAL;
    const lines = text.split(/\r?\n/);
    lines.forEach((line, index) => {
        const result = grammar.tokenizeLine(line, ruleStack);
        for (const token of result.tokens) {
            const endIndex = Math.min(token.endIndex, line.length);
            if (token.startIndex >= endIndex) {
                continue;
            }
            tokens.push({
                line: index + 1,
                startIndex: token.startIndex,
                endIndex,
                text: line.slice(token.startIndex, endIndex),
                scopes: token.scopes,
            });
        }
        ruleStack = result.ruleStack;
    });
    return tokens;
}

function isUnrecognised(token) {
    return /\S/.test(token.text) && token.scopes.every((scope) => scope === SCOPE_NAME || scope.startsWith('meta.'));
}

function collectFiles(args) {
    const files = [];
    const walk = (entry) => {
        let stat;
        try {
            stat = fs.statSync(entry);
        } catch (err) {
            fail(`cannot read ${entry}: ${err.code || err.message}`);
        }
        if (stat.isDirectory()) {
            for (const name of fs.readdirSync(entry).sort()) {
                const child = path.join(entry, name);
                if (name.endsWith('.aicr') || fs.statSync(child).isDirectory()) {
                    walk(child);
                }
            }
        } else {
            files.push(entry);
        }
    };
    args.forEach(walk);
    return files;
}

async function main(argv) {
    if (argv.includes('-h') || argv.includes('--help')) {
        process.stdout.write(USAGE);
        return 0;
    }
    const dump = argv[0] === '--dump';
    const args = dump ? argv.slice(1) : argv;
    if (args.length === 0 || (dump && args.length !== 1) || args.some((arg) => arg.startsWith('--'))) {
        process.stderr.write(USAGE);
        return 2;
    }
    const files = collectFiles(args);
    const { vsctm, grammar } = await loadGrammar();

    if (dump) {
        const tokens = tokenize(vsctm, grammar, fs.readFileSync(files[0], 'utf8'));
        process.stdout.write(`${JSON.stringify(tokens, null, 1)}\n`);
        return 0;
    }

    let checked = 0;
    let problems = 0;
    for (const file of files) {
        for (const token of tokenize(vsctm, grammar, fs.readFileSync(file, 'utf8'))) {
            if (!/\S/.test(token.text)) {
                continue;
            }
            checked += 1;
            if (isUnrecognised(token)) {
                problems += 1;
                const column = token.startIndex + token.text.search(/\S/) + 1;
                process.stdout.write(`${file}:${token.line}:${column}: unrecognised token '${token.text.trim()}'\n`);
            }
        }
    }
    const plural = (count, word) => `${count} ${word}${count === 1 ? '' : 's'}`;
    process.stderr.write(`${plural(files.length, 'file')}, ${plural(checked, 'token')} checked, ${plural(problems, 'unrecognised token')}\n`);
    return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
    (code) => {
        process.exitCode = code;
    },
    (err) => {
        process.stderr.write(`tokenize.js: ${err && err.stack ? err.stack : err}\n`);
        process.exitCode = 2;
    },
);
