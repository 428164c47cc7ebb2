"""``backoffice score FILE`` / ``backoffice score --jsonl FILE`` (shared/contracts/SCORING.md).

Result JSON on stdout, exit 0. Input that does not follow the contract: one line
``error: <field path>: <message>`` on stderr and exit 2; with ``--jsonl`` each bad
line is reported as ``error: line N: <field path>: <message>``, the good lines'
results are still written in order, and the run exits 2 at the end.
"""

from __future__ import annotations

import json
import sys

import click

from .engine import ScoreInputError, score as score_application

EXIT_BAD_INPUT = 2


def _reject_constant(name):
    # json accepts NaN / Infinity by default; they are not JSON.
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _loads(raw, one_line=False):
    """Parse one UTF-8 JSON document (bytes); raise ValueError with a one-line message."""
    try:
        return _DECODER.decode(raw.decode("utf-8-sig" if raw[:3] == b"\xef\xbb\xbf" else "utf-8"))
    except json.JSONDecodeError as e:
        where = f"column {e.colno}" if one_line else f"line {e.lineno} column {e.colno}"
        raise ValueError(f"invalid JSON: {e.msg} at {where}") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"invalid JSON: not UTF-8 ({e.reason} at byte {e.start})") from None
    except ValueError as e:
        raise ValueError(f"invalid JSON: {e}") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None


def _open(file):
    if file == "-":
        return sys.stdin.buffer
    try:
        return open(file, "rb")
    except OSError as e:
        _fail(f"{file}: {e.strerror or e}")


def _fail(message):
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _one_line(text):
    return " ".join(str(text).split())


@click.command("score")
@click.argument("file", metavar="FILE")
@click.option("--jsonl", is_flag=True,
              help="FILE holds one application per line; one result per line, same order.")
def score(file, jsonl):
    """Score application(s) in FILE (a path, or - for stdin) per SCORING.md."""
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    fh = _open(file)
    try:
        if not jsonl:
            raw = fh.read()
            try:
                data = _loads(raw)
                result = score_application(data)
            except ScoreInputError as e:
                _fail(_one_line(e))
            except ValueError as e:
                _fail(_one_line(e))
            text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
            if out is not None:
                out.write(text.encode("utf-8"))
            else:  # pragma: no cover - e.g. click's CliRunner without a buffer
                sys.stdout.write(text)
            return
        bad = 0
        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        write = out.write if out is not None else (lambda b: sys.stdout.write(b.decode()))
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue  # blank lines (e.g. a trailing newline) are not applications
            try:
                result = score_application(_loads(line, True))
            except ScoreInputError as e:
                bad += 1
                click.echo(f"error: line {lineno}: {_one_line(e)}", err=True)
                continue
            except ValueError as e:
                bad += 1
                click.echo(f"error: line {lineno}: {_one_line(e)}", err=True)
                continue
            write((encode(result) + "\n").encode("utf-8"))
        if out is not None:
            out.flush()
        if bad:
            sys.exit(EXIT_BAD_INPUT)
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
