"""Documents with Chinese text render to PDF and read back as the same words."""
from pypdf import PdfReader
import io

from backoffice.core.pdf import Document, extract_text, render


def test_chinese_text_renders_and_extracts():
    doc = Document(
        title="积分落户复查结果告知书",
        number="朝阳〔2026〕第000042号",
        paragraphs=["经审核，您申报的“职住区域”指标材料齐全，核实无误，认定有效。"],
        tables=[[["材料", "结论"], ["房屋所有权证", "合格"]]],
        closing=["北京市朝阳区积分落户服务窗口", "2026年11月30日"],
    )
    data = render(doc)
    assert data.startswith(b"%PDF")
    assert PdfReader(io.BytesIO(data)).metadata.title == "积分落户复查结果告知书"
    text = extract_text(data)
    for words in ("积分落户复查结果告知书", "第000042号", "核实无误，认定有效", "房屋所有权证", "2026年11月30日"):
        assert words in text


def test_markup_in_text_is_escaped_not_interpreted():
    text = extract_text(render(Document(title="告知书", paragraphs=["<b>张三</b> & 李四"])))
    assert "<b>张三</b> & 李四" in text
