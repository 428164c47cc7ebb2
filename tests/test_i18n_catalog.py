"""One translation mechanism: every string of ours is a Chinese msgid with its English in
backoffice/translations/en/LC_MESSAGES/messages.po (backoffice/i18n.py, tools/i18n_codemod.py).

These fail when a string was added without its English, when the catalog keeps an English for
a string the code no longer has, when the English and the Chinese disagree on placeholders, and
when a bilingual call (bi/text/t/is_english with literals) is written again instead of `_()`."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_db

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def _codemod():
    spec = importlib.util.spec_from_file_location("i18n_codemod", ROOT / "tools" / "i18n_codemod.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def codemod():
    return _codemod()


@pytest.fixture(scope="module")
def extracted(codemod):
    return codemod.extract(ROOT)


@pytest.fixture(scope="module")
def catalog(codemod):
    return codemod.read_catalog(ROOT / "backoffice" / "translations" / "en" / "LC_MESSAGES" / "messages.po")


def _entries(catalog):
    return {(m.context, m.id): m for m in catalog if m.id}


def test_every_extracted_string_has_its_english(extracted, catalog):
    entries = _entries(catalog)
    missing = sorted(f"{key[1]!r} (context {key[0]!r}) at {', '.join(places[:2])}"
                     for key, places in extracted.items()
                     if key not in entries or not entries[key].string or entries[key].fuzzy)
    assert not missing, ("strings without English; run `make i18n` (tools/i18n_codemod.py) or add them to "
                         "messages.po:\n" + "\n".join(missing))


def test_the_catalog_has_no_stale_english(extracted, catalog):
    stale = sorted(repr(key[1]) for key in _entries(catalog) if key not in extracted)
    assert not stale, "English for strings the code no longer has; run `make i18n`:\n" + "\n".join(stale)


def test_english_and_chinese_agree_on_placeholders_and_the_english_is_english(catalog):
    problems = []
    for message in catalog:
        if not message.id:
            continue
        names = lambda s: sorted(re.findall(r"%\((\w+)\)", s))  # noqa: E731
        if not set(names(message.string)) <= set(names(message.id)):  # English may leave a value out
            problems.append(f"{message.id!r}: placeholders {names(message.id)} vs {names(message.string)}")
        # Chinese in the English only where it quotes the Chinese verbatim (an example to type)
        if any(run not in message.id for run in re.findall(CJK.pattern + "+", message.string)):
            problems.append(f"{message.id!r}: the English has Chinese: {message.string!r}")
    for message, errors in catalog.check():
        problems += [f"{message.id!r}: {e}" for e in errors]
    assert not problems, "\n".join(problems)


def test_no_bilingual_call_is_written_again(codemod):
    """bi()/text()/t() and `'English' if is_english() else '中文'` are gone: write _("中文")."""
    result = codemod.run(ROOT, write=False)
    assert not result.pairs, "\n".join(f"{p.where}: {p.zh!r} / {p.en!r}" for p in result.pairs)


def test_a_catalog_changed_after_install_is_compiled_when_the_app_starts(tmp_path, codemod):
    from babel.messages.mofile import read_mo

    from backoffice.i18n import compile_catalogs

    po = tmp_path / "en" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
                  'msgid "案件"\nmsgstr "Case"\n', encoding="utf-8")
    assert compile_catalogs(tmp_path) == [po.with_suffix(".mo")]
    assert compile_catalogs(tmp_path) == []  # current: left alone
    with po.with_suffix(".mo").open("rb") as handle:
        assert read_mo(handle).get("案件").string == "Case"
