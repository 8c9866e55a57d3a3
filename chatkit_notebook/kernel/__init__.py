"""The faces in a kernel: the magics, the ``%chat`` cell turn, the doctor and HTTP serving.

Belongs here: the kernel's session (the one owner of kernel-side state: the loop, the
main-thread binding, the HTTP endpoint, the hidden names, the current thread), the
``%chat``/``%chatkit`` magics, the run hooks that record the cells (``cells``), a
``%chat QUESTION``'s turn in a cell, the help under a failing cell (``errorhelp``),
``%chatkit doctor`` and ``%chatkit serve`` with its FastAPI app.

May import every other wing: it is the top floor. Nothing in the package imports it except
the package root's ``load_ipython_extension``/``unload_ipython_extension`` and the public
``serve``/``stop_serving``.
"""
