# After the Python 3.5/3.6 docs, "18.5.5.6. TCP echo client using streams"
# (https://docs.python.org/3.6/library/asyncio-stream.html), the style of many
# older tutorials: asyncio.get_event_loop() at module level and
# loop.run_until_complete(). Port 8888 -> 9308. The one change: the `loop=loop`
# argument of open_connection() is dropped (removed in Python 3.10).
import asyncio

async def tcp_echo_client(message, loop):
    reader, writer = await asyncio.open_connection('127.0.0.1', 9308)

    print('Send: %r' % message)
    writer.write(message.encode())

    data = await reader.read(100)
    print('Received: %r' % data.decode())

    print('Close the socket')
    writer.close()


message = 'Hello World!'
loop = asyncio.get_event_loop()
loop.run_until_complete(tcp_echo_client(message, loop))
loop.close()
