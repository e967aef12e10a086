"""What each command answers, as a typed result (``godbg.results``): one function per
question over a Target. The Python API's Program methods and the commands' ``run()`` both
call these, so the two cannot disagree; the commands only parse arguments and print."""
