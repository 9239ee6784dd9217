# After the Python 3.5/3.6 docs, "18.5.5.7. TCP echo server using streams"
# (https://docs.python.org/3.6/library/asyncio-stream.html), the style of many
# older tutorials: asyncio.get_event_loop() at module level, run_until_complete,
# run_forever. Port 8888 -> 9308. The one change: the `loop=loop` argument of
# start_server() is dropped, because Python 3.10 removed it (TypeError).
import asyncio

async def handle_echo(reader, writer):
    data = await reader.read(100)
    message = data.decode()
    addr = writer.get_extra_info('peername')
    print("Received %r from %r" % (message, addr))

    print("Send: %r" % message)
    writer.write(data)
    await writer.drain()

    print("Close the client socket")
    writer.close()

loop = asyncio.get_event_loop()
coro = asyncio.start_server(handle_echo, '127.0.0.1', 9308)
server = loop.run_until_complete(coro)

# Serve requests until Ctrl+C is pressed
print('Serving on {}'.format(server.sockets[0].getsockname()))
try:
    loop.run_forever()
except KeyboardInterrupt:
    pass

# Close the server
server.close()
loop.run_until_complete(server.wait_closed())
loop.close()
