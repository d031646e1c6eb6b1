// Partner access: accounts of the local store (PRIMARY) may use the application; accounts from
// the corporate directory only when the directory puts them in one of the allowed groups.
// The user store an account came from goes into the token for the application to show.
var allowedDirectoryGroups = ['finance', 'auditors'];
var storeClaim = 'http://wso2.org/claims/userstore';

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            if (user.userStoreDomain !== 'PRIMARY' && !isMemberOfAnyOfGroups(user, allowedDirectoryGroups)) {
                fail({'errorCode': 'access_denied',
                      'errorMessage': 'Directory accounts need a finance or auditors group for this application.'});
                return;
            }
            user.claims[storeClaim] = user.userStoreDomain;
        }
    });
};
