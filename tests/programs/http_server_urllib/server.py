# After the Python docs, "http.server -- HTTP servers": the example that serves the
# current directory (https://docs.python.org/3/library/http.server.html).
# PORT = 8000 -> 9321. Serves for ever.
import http.server
import socketserver

PORT = 9321

Handler = http.server.SimpleHTTPRequestHandler

with socketserver.TCPServer(("", PORT), Handler) as httpd:
    print("serving at port", PORT)
    httpd.serve_forever()
