"""QR labels: the payload format (encode, parse, check) and decoding QR codes from images."""
