"""The files connector passes the conformance kit, in both file formats."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest

from shoploop.plugins.files import CAPABILITIES, FilesConfig, FilesConnector, write_stream
from shoploop.testing import STREAMS, ConformanceDataset, ConnectorConformance


def serve(directory: Path, dataset: ConformanceDataset, fmt: Literal["jsonl", "csv"]) -> Path:
    directory.mkdir(parents=True)
    for stream in STREAMS:
        write_stream(directory, stream, dataset.records(stream), format=fmt)
    return directory


class _FilesConformance(ConnectorConformance):
    capabilities = CAPABILITIES
    exact_records = True  # every field survives the file
    file_format: Literal["jsonl", "csv"] = "jsonl"

    @pytest.fixture
    def make_connector(self, tmp_path: Path) -> Callable[[ConformanceDataset], FilesConnector]:
        counter = itertools.count()

        def make(dataset: ConformanceDataset) -> FilesConnector:
            # A fresh directory per call: the incremental test serves the changed dataset
            # while the checkpoint still refers to the first one.
            directory = serve(tmp_path / f"data{next(counter)}", dataset, self.file_format)
            config = FilesConfig(path=directory, format=self.file_format, page_size=10,
                                 attribute_batch_size=40)
            return FilesConnector("files-under-test", config)

        return make

    @pytest.fixture
    def make_unreachable_connector(self, tmp_path: Path) -> Callable[[], FilesConnector]:
        config = FilesConfig(path=tmp_path / "does-not-exist")
        return lambda: FilesConnector("files-under-test", config)


class TestFilesConformanceJsonl(_FilesConformance):
    file_format = "jsonl"


class TestFilesConformanceCsv(_FilesConformance):
    file_format = "csv"
