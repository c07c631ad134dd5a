"""``profond export MODEL --format onnx [--out PATH]``: a saved model as an ONNX file."""

from __future__ import annotations

import argparse
import os

HELP = """\
Write a model saved by model.save(path) (a .safetensors file) in another format, to serve it
outside profond. ONNX (opset 17, dynamic batch): onnxruntime runs it and gives predict's
output; input "input", output "output". Needs the onnx package (pip install 'profond[onnx]').

Examples:
  profond export model.safetensors --format onnx            # writes model.onnx
  profond export model.safetensors --format onnx --out served/m.onnx
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="write a saved model as ONNX",
                              description=HELP, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("model", help="model file from model.save (.safetensors)")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="the format (onnx)")
    p.add_argument("--out", default=None, metavar="PATH",
                   help="where to write (default: MODEL with the format's extension)")
    p.set_defaults(func=run)


def run(args) -> int:
    import profond

    out = args.out or os.path.splitext(args.model)[0] + "." + args.format
    model = profond.load_model(args.model, compile=False)
    model.export(out, format=args.format)
    print(f"wrote {out} ({args.format}, {os.path.getsize(out)} bytes)")
    return 0
