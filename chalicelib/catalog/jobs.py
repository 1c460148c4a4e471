"""Reconcile jobs in the table: one item per job, and one item naming the job
that runs (so that a second one is refused).

Workers report each piece of work they finish with one conditional update:
the piece's id joins a set and its counts are added only if the id was not
there yet, so a piece run twice (SQS delivers at least once; a worker may be
stopped after its work and before its report) counts once. A range is done
once (its id joins `done_ids`), and the update that makes done + dead equal
the total is seen by exactly one worker, which then moves the job to
`finishing` with a conditional update (one winner) and queues the last step.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.catalog.layout import decode, encode

JOB_PREFIX = "reconcile#job#"
ACTIVE_PK = "reconcile#active"
COUNTS = ("listed", "refreshed", "removed", "unreadable", "failed")
MAX_FAILED_KEYS = 20
MAX_DEAD_SHOWN = 50


class JobStore:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def claim_job_slot(self, job: str, now: int, expires_at: int) -> str | None:
        """Name `job` as the running one; returns the other job's id when one runs."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=encode({"pk": ACTIVE_PK, "job": job, "expires_at": expires_at}),
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
            return None
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        item = self._read(ACTIVE_PK)
        return item["job"] if item else "?"

    def release_job_slot(self, job: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={"pk": {"S": ACTIVE_PK}},
                ConditionExpression="job = :job",
                ExpressionAttributeValues={":job": {"S": job}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def create_job(self, job: str, fields: dict[str, Any]) -> None:
        item = {
            "pk": JOB_PREFIX + job,
            "job": job,
            "state": "running",
            "ranges_done": 0,
            "ranges_dead": 0,
            **{name: 0 for name in COUNTS},
            "failed_keys": [],
            "dead_errors": {},
            "merged": {},
            **fields,
        }
        self._client.put_item(TableName=self._table, Item=encode(item))

    def job_item(self, job: str) -> dict[str, Any] | None:
        return self._read(JOB_PREFIX + job)

    def record_piece(
        self,
        job: str,
        piece: str,
        counts: dict[str, int],
        failed_keys: list[str],
        completes: str | None = None,
    ) -> dict[str, Any] | None:
        """Add one piece's counts (and the range it completes); None if already added."""
        adds = ["pieces_done :piece", *(f"{name} :{name}" for name in COUNTS)]
        values: dict[str, Any] = {":piece": {piece}, **{f":{n}": counts[n] for n in COUNTS}}
        condition = "NOT contains(pieces_done, :one_piece)"
        values[":one_piece"] = piece
        if completes is not None:
            adds += ["ranges_done :one", "done_ids :range"]
            values.update({":one": 1, ":range": {completes}, ":one_range": completes})
            condition += " AND NOT contains(done_ids, :one_range)"
        expression = "ADD " + ", ".join(adds)
        if failed_keys:
            expression += " SET failed_keys = list_append(failed_keys, :keys)"
            values[":keys"] = failed_keys[:MAX_FAILED_KEYS]
        return self._change(job, expression, condition, values)

    def add_range(self, job: str, child: str) -> None:
        """Count a range split off at run time (once, however often it is split off)."""
        self._change(
            job,
            "ADD ranges_total :one, split_ids :child",
            "NOT contains(split_ids, :one_child)",
            {":one": 1, ":child": {child}, ":one_child": child},
        )

    def record_dead(self, job: str, range_id: str, error: str) -> dict[str, Any] | None:
        """A range given up on (its message goes to the dead-letter queue). Its error
        is kept for the first MAX_DEAD_SHOWN only: thousands of them would pass
        DynamoDB's 400 KB item limit, and the job could not be updated any more."""
        condition = "NOT contains(dead_ids, :one_range) AND NOT contains(done_ids, :one_range)"
        values = {":one": 1, ":range": {range_id}, ":one_range": range_id}
        done = self._change(
            job,
            "ADD ranges_dead :one, dead_ids :range SET dead_errors.#range = :error",
            f"({condition}) AND (attribute_not_exists(dead_ids) OR size(dead_ids) < :max)",
            {**values, ":error": error[:500], ":max": MAX_DEAD_SHOWN},
            names={"#range": range_id},
        )
        return done or self._change(job, "ADD ranges_dead :one, dead_ids :range", condition, values)

    def begin_finish(self, job: str) -> bool:
        """Move the job from `running` to `finishing`: True for the one caller that did."""
        done = self._change(
            job,
            "SET #state = :finishing",
            "#state = :running",
            {":finishing": "finishing", ":running": "running"},
            names={"#state": "state"},
        )
        return done is not None

    def begin_tally(self, job: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Record the plan of the final step (the versions read, the segments, the
        preview sweep's ranges), once: a redelivered `finish` gets the first one's."""
        done = self._set(job, fields, "attribute_not_exists(tally_segments)")
        return done or self.job_item(job)

    def sweep_piece(
        self, job: str, piece: str, removed: int, completes: str | None
    ) -> dict[str, Any] | None:
        """Add one preview sweep piece's count (and the range it completes), once."""
        adds = ["previews_removed :n", "sweep_pieces :piece"]
        values: dict[str, Any] = {":n": removed, ":piece": {piece}, ":one_piece": piece}
        if completes is not None:
            adds.append("swept :range")
            values[":range"] = {completes}
        return self._change(
            job, "ADD " + ", ".join(adds), "NOT contains(sweep_pieces, :one_piece)", values
        )

    def close_final(self, job: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """The final step's results, once its close ran; returns the job after."""
        return self._while_finishing(job, {**fields, "closed": True})

    def segment_tallied(self, job: str, segment: int) -> tuple[dict[str, Any], bool]:
        """Add a finished tally segment: (the job as it is after, whether this call
        added it; only the call that completes the set sees it complete and added)."""
        done = self._change(
            job,
            "ADD tallied :seg",
            "NOT contains(tallied, :one)",
            {":seg": {segment}, ":one": segment},
        )
        return (done, True) if done else (self.job_item(job) or {}, False)

    def record_merge(
        self, job: str, shard: int, result: dict[str, Any], counters_put: dict[str, Any] | None
    ) -> str:
        """Record shard `shard` as merged, in one transaction with the Put rewriting its
        counters (when given): "recorded", "already" (merged before) or "busy" (the
        Put's version guard failed: nothing was written)."""
        update = {
            "TableName": self._table,
            "Key": {"pk": {"S": JOB_PREFIX + job}},
            "UpdateExpression": "SET merged.#n = :r ADD merges_done :one",
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(merged.#n)",
            "ExpressionAttributeNames": {"#n": str(shard)},
            "ExpressionAttributeValues": encode({":r": result, ":one": 1}),
        }
        try:
            if counters_put is None:
                self._client.update_item(**update)
            else:
                items = [{"Put": counters_put}, {"Update": update}]
                self._client.transact_write_items(TransactItems=items)
            return "recorded"
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise
        item = self.job_item(job) or {}
        return "already" if str(shard) in item.get("merged", {}) else "busy"

    def finish_job(self, job: str, fields: dict[str, Any], expires_at: int) -> None:
        self._while_finishing(job, {**fields, "state": "finished", "expires_at": expires_at})
        self.release_job_slot(job)

    def _while_finishing(self, job: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        finishing = {":finishing": "finishing"}
        return self._set(job, fields, "#state = :finishing", finishing, {"#state": "state"})

    def _set(
        self,
        job: str,
        fields: dict[str, Any],
        condition: str,
        values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """SET each of `fields` on the job item when `condition` holds."""
        return self._change(
            job,
            "SET " + ", ".join(f"#{n} = :{n}" for n in fields),
            condition,
            {**{f":{n}": v for n, v in fields.items()}, **(values or {})},
            names={**{f"#{n}": n for n in fields}, **(names or {})},
        )

    def _change(
        self,
        job: str,
        expression: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> dict[str, Any] | None:
        extra = {"ExpressionAttributeNames": names} if names else {}
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": JOB_PREFIX + job}},
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(pk) AND ({condition})",
                ExpressionAttributeValues=encode(values),
                ReturnValues="ALL_NEW",
                **extra,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return decode(response["Attributes"])

    def _read(self, pk: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": pk}}, ConsistentRead=True
        )
        return decode(response["Item"]) if "Item" in response else None


def merges_planned(item: dict[str, Any]) -> int:
    """How many merges the final step runs: one per counter shard and duplicate bucket
    (there are at least as many buckets as shards); 0 before it is planned."""
    return max(len(item.get("tally_versions", {})), int(item.get("dup_buckets", 0)))


def job_view(item: dict[str, Any]) -> dict[str, Any]:
    """What `GET /reconcile/{job}` and `make reconcile-status` show of a job item."""
    dead = item.get("dead_errors") or {}
    total, done = int(item.get("ranges_total", 0)), int(item.get("ranges_done", 0))
    return {
        "job": item["job"],
        "state": item["state"],
        "force": bool(item.get("force", False)),
        "parallel": int(item.get("parallel", 1)),
        "started": item.get("started"),
        "finished": item.get("finished"),
        "ranges": {
            "total": total,
            "done": done,
            "dead_lettered": max(len(dead), int(item.get("ranges_dead", 0))),
        },
        "objects": {name: int(item.get(name, 0)) for name in COUNTS},
        "failed_keys": list(item.get("failed_keys", []))[:MAX_FAILED_KEYS],
        "dead_lettered": [
            {"range": name, "error": dead[name]} for name in sorted(dead)[:MAX_DEAD_SHOWN]
        ],
        "counters_rebuilt": [int(n) for n in item.get("counters_rebuilt", [])],
        "counters_busy": [int(n) for n in item.get("counters_busy", [])],
        "facets_rewritten": int(item.get("facets_rewritten", 0)),
        "facets_busy": bool(item.get("facets_busy", False)),
        "previews_removed": int(item.get("previews_removed", 0)),
        "duplicates_rewritten": int(item.get("duplicates_rewritten", 0)),
        "duplicates_busy": bool(item.get("duplicates_busy", False)),
        "final_step": {
            "segments": int(item.get("tally_segments", 0)),
            "segments_tallied": len(item.get("tallied", ())),
            "merges": merges_planned(item),
            "merges_done": int(item.get("merges_done", 0)),
            "sweep_ranges": int(item.get("sweeps_total", 0)),
            "sweep_ranges_done": len(item.get("swept", ())),
        },
        "complete": item["state"] == "finished"
        and not dead
        and not int(item.get("failed", 0))
        and not item.get("counters_busy")
        and not item.get("facets_busy")
        and not item.get("duplicates_busy"),
    }
