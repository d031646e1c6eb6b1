// Profile defaults: every account gets a department, 'unassigned' when it has none. The local
// store keeps the default; a read-only directory refuses writes to the claims it holds, so for
// its accounts the default goes into this sign-in's token only.
var departmentClaim = 'http://wso2.org/claims/department';
var defaultDepartment = 'unassigned';

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            if (user.localClaims[departmentClaim]) {
                return;
            }
            user.localClaims[departmentClaim] = defaultDepartment;
            if (user.localClaims[departmentClaim] !== defaultDepartment) {
                Log.warn('the ' + user.userStoreDomain + ' user store did not take the department of '
                         + user.username + ': set for this sign-in only');
                user.claims[departmentClaim] = defaultDepartment;
            }
        }
    });
};
