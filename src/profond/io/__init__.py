"""Files: whole models and weights in checksummed safetensors files, the foreign formats told
apart from them, and the ONNX export (``profond.load_model`` is
:func:`profond.io.model_file.load_model`)."""
