import pytest

from tests.qmd.selfcontained import assert_no_external_src, external_srcs


@pytest.mark.parametrize("html", [
    '<script src="https://cdn.jsdelivr.net/npm/jquery@3.5.1/dist/jquery.min.js"></script>',
    "<script src='http://x.org/require.js'>",
    '<img SRC = "//cdnjs.cloudflare.com/polyfill.min.js">',
    "<script src=https://x.org/a.js>",
], ids=["https", "http-single-quotes", "protocol-relative", "unquoted"])
def test_external_src_is_found(html):
    assert external_srcs(html)
    with pytest.raises(AssertionError):
        assert_no_external_src(html)


@pytest.mark.parametrize("html", [
    '<img src="data:image/png;base64,AAAA">', '<script src="site_libs/quarto.js"></script>',
    '<a href="https://doi.org/10.1/x">doi</a>', "<p>see src = the source</p>",
], ids=["data-uri", "relative", "href-is-not-src", "prose"])
def test_local_or_inline_is_accepted(html):
    assert_no_external_src(html)
