from backend.server import main

main()
