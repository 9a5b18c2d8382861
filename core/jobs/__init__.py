"""Jobs: plain functions over (connector or plugin host, store, job spec, checkpoint).

They run in process from the CLI; the same functions can run on workers later. Each job
records a run in the store (``sync_runs``) and keeps its checkpoint there, so a run that dies
at any point resumes where its last durable step ended.
"""

from __future__ import annotations

from ._dispatch import job_sender
from ._mirror import STREAMS, MirrorResult, MirrorStream, mirror_stream
from ._webhooks import ProcessResult, process_deliveries, process_event, process_stored

__all__ = ["STREAMS", "MirrorResult", "MirrorStream", "ProcessResult", "job_sender",
           "mirror_stream", "process_deliveries", "process_event", "process_stored"]
