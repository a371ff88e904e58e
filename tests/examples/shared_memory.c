#include <windows.h>
#include <stdio.h>
#define SHARED_MEM_NAME L"MySharedMemory"
#define MEM_SIZE 256
int main() {
HANDLE hMapFile;
LPVOID lpMapAddress;
const char* msgToWrite = "This is shared data!";
// Create or open a named file mapping object
hMapFile = CreateFileMapping(
INVALID_HANDLE_VALUE, // Use the paging file
NULL, // Default security attributes
PAGE_READWRITE, // Read/write access
0, // Maximum object size (high-order DWORD)
MEM_SIZE, // Maximum object size (low-order DWORD)
SHARED_MEM_NAME // Name of the mapping object
);
if (hMapFile == NULL) {
wprintf(L"CreateFileMapping failed. Error: %lu\n", GetLastError());
return 1;
}
// Map the file mapping into the address space
lpMapAddress = MapViewOfFile(
hMapFile, // Handle of the file mapping object
FILE_MAP_ALL_ACCESS, // Access mode
0, // Offset (high-order DWORD)
0, // Offset (low-order DWORD)
MEM_SIZE // Number of bytes to map
);
if (lpMapAddress == NULL) {
wprintf(L"MapViewOfFile failed. Error: %lu\n", GetLastError());
CloseHandle(hMapFile);
return 1;
}
wprintf(L"Shared memory mapped at: %p\n", lpMapAddress);
// Write data to the shared memory
strncpy((char*)lpMapAddress, msgToWrite, MEM_SIZE - 1);
((char*)lpMapAddress)[MEM_SIZE - 1] = '\0'; // Null terminate
wprintf(L"Data written to shared memory: \"%s\"\n", (char*)lpMapAddress);
// To read, another process would open the same mapping and use MapViewOfFile.
// For this example, we'll keep it mapped for demonstration.
// In a real application, you'd have synchronization logic.
wprintf(L"Press Enter to unmap and close...\n");
getchar();
// Unmap the view
if (!UnmapViewOfFile(lpMapAddress)) {
wprintf(L"UnmapViewOfFile failed. Error: %lu\n", GetLastError());
}
// Close the file mapping handle
CloseHandle(hMapFile);
return 0;
}
