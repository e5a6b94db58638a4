"""Reading back the CSV files the platform hands out, as Belgian Excel would open them."""

import csv
import io

import httpx


def belgian_csv(content: bytes) -> list[dict[str, str]]:
    """The rows of a CSV file by column name, once it is checked to be what Belgian Excel opens
    right: UTF-8 with a BOM, ``;`` between cells, CRLF line ends."""
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for Excel"
    text = content[3:].decode("utf-8")
    assert text.endswith("\r\n")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def downloaded_csv(response: httpx.Response) -> list[dict[str, str]]:
    """A CSV download of the API: its headers, then its rows."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return belgian_csv(response.content)
