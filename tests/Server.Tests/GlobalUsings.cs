// Statuses are Grpc.Core's everywhere: the server throws and the clients read the same enum.
global using StatusCode = Grpc.Core.StatusCode;
