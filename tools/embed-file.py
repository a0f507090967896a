#!/usr/bin/env python3
"""Write a C file defining `const char NAME[]` with the bytes of INPUT."""
import sys


def main() -> int:
    if len(sys.argv) != 4:
        print("usage: embed-file.py INPUT OUTPUT SYMBOL", file=sys.stderr)
        return 2
    src, dst, symbol = sys.argv[1:]
    with open(src, "rb") as f:
        data = f.read()
    lines = []
    for i in range(0, len(data), 16):
        chunk = data[i:i + 16]
        lines.append("        " + ", ".join("0x%02x" % b for b in chunk) + ",")
    with open(dst, "w") as f:
        f.write("/* generated from %s by tools/embed-file.py: do not edit */\n" % src)
        f.write("extern const char %s[];\n" % symbol)
        f.write("const char %s[] = {\n%s\n        0x00\n};\n" % (symbol, "\n".join(lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
