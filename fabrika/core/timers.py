"""Timers: rows with `due_at`, fired by the worker's scheduler loop exactly once (interface; engine by the jobs work).

    schedule_timer(kind="status.remind", due_at=..., target=record, payload={...}, dedupe_key="...") -> Timer
    cancel_timers(kind=..., target=record)  # cancels pending timers of that kind for the record
    register_timer_handler("status.remind", handler)  # in AppConfig.ready(); handler(timer) runs in the firing transaction
    fire_due_timers(now=None, limit=100) -> int  # fires what is due; safe with several workers
"""
